"""What the text peers share: input checks, result building, spans, the cache folder (see ``peers``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from affectlens.inputs import TextItem, as_text_item
from affectlens.types import VAD, Cue, EmotionResult, Modality, Provenance, Segment


def _text_or_warning(value: Any) -> tuple[TextItem | None, str | None]:
    try:
        item = as_text_item(value)
    except ValueError as err:
        return None, str(err)
    if not item.text.strip():
        return None, "empty text: nothing to analyse"
    return item, None


def _empty(value: Any, warning: str) -> EmotionResult:
    return EmotionResult((), getattr(value, "source", None), (warning,))


def analyze_each(batch: Sequence[Any], analyze_one: Callable[[TextItem], EmotionResult]) -> list[EmotionResult]:
    """One result per input, in order: ``analyze_one`` for readable texts, an empty result with its warning else."""
    results: list[EmotionResult] = []
    for value in batch:
        item, warning = _text_or_warning(value)
        results.append(_empty(value, warning or "unreadable input") if item is None else analyze_one(item))
    return results


def _segment(item: TextItem, *, label_set: str, scores: dict[str, float], labels: tuple[str, ...],
             vad: VAD | None, confidence: float, name: str, version: str, cues: tuple[Cue, ...]) -> Segment:
    return Segment(
        modality=Modality.TEXT, label_set=label_set, scores=scores, labels=labels, vad=vad,
        confidence=confidence, provenance=Provenance(name, version), cues=cues, source=item.source,
        text=item.text, start=item.start, end=item.end, turn=item.turn, speaker=item.speaker,
        record_id=item.record_id)


def _find_spans(text: str, tokens: Sequence[str]) -> list[tuple[int, int] | None]:
    """Character span of each token, searched left to right (None when not in the text verbatim)."""
    spans: list[tuple[int, int] | None] = []
    cursor = 0
    for token in tokens:
        at = text.find(token, cursor)
        if at < 0:
            spans.append(None)
            continue
        spans.append((at, at + len(token)))
        cursor = at + len(token)
    return spans


# -- shared by the trained peers (peer_tfidf, peer_frozen) -----------------------------------
class PeerModelMissing(FileNotFoundError):
    """The TF-IDF peer has no cached model and may not train one now."""


def cache_dir() -> Path:
    """``$AFFECTLENS_CACHE``, else ``$XDG_CACHE_HOME/affectlens``, else ``~/.cache/affectlens``."""
    env = os.environ.get("AFFECTLENS_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "affectlens"


def _cores() -> int:
    from affectlens.runtime_threads import available_cpus

    return available_cpus()  # the affinity mask, capped by a cgroup CPU quota


def _anchor_vad(scores: dict[str, float], label_set: str) -> VAD | None:
    try:
        from affectlens.taxonomy import vad_from_scores
    except ImportError:  # pragma: no cover - the taxonomy ships with the package
        return None
    return vad_from_scores(scores, label_set)
