"""Emotion results moved between label sets: the one mapping ``--labels`` / ``labels=`` use everywhere."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

from affectlens.taxonomy.label_sets import get_label_set
from affectlens.taxonomy.mappings import convert_scores, mapping
from affectlens.types import EmotionResult, Segment


@lru_cache(maxsize=4096)
def closest_label(label: str, from_set: str, to_set: str) -> str | None:
    """The target label a single source label maps to most strongly (``None``: no mapping,
    e.g. ``neutral`` into a set without a no-emotion class)."""
    converted = convert_scores({label: 1.0}, from_set, to_set)
    if not converted:
        return None
    best = max(converted, key=lambda k: converted[k])
    return best if converted[best] > 0 else None


def map_segment(seg: Segment, to_set: str | None) -> Segment:
    """One segment in the label set ``to_set`` (as ``map_result`` maps each of its segments)."""
    if not to_set or seg.label_set == to_set:
        return seg
    scores = convert_scores(seg.scores, seg.label_set, to_set)
    # A predicted label is carried over as every target it *is* (both emotions of a dyad,
    # none for neutral without a no-emotion class), so the target label set keeps the
    # recognizer's own calibrated decisions instead of re-thresholding mapped scores.
    table = mapping(seg.label_set, to_set)
    mapped = {target for label in seg.labels for target in table.components(label)}
    labels = sorted(mapped, key=lambda k: (-scores.get(k, 0.0), table.target_labels.index(k)))
    cues = tuple(
        replace(c, label=closest_label(c.label, seg.label_set, to_set)) if c.label else c for c in seg.cues
    )
    extras: dict[str, Any] = {**seg.extras, "mapped_from": seg.label_set}
    if get_label_set(to_set).none_label is None and any(scores.values()):
        # the neutral rule: the share of the scores that meant "no emotion" in the source set
        extras["none_of_these"] = round(max(0.0, 1.0 - sum(scores.values())), 4)
    return replace(seg, label_set=to_set, scores=scores, labels=tuple(labels), cues=cues, extras=extras)


def map_result(result: EmotionResult, to_set: str | None) -> EmotionResult:
    """``result`` expressed in the label set ``to_set`` (the one mapping everyone uses).

    ``scores`` go through ``taxonomy.convert_scores`` (the source's neutral mass lowers every
    target when ``to_set`` has no no-emotion class; ``extras["none_of_these"]`` is that share);
    each predicted label becomes the target labels it is (``LabelMapping.components``: both
    emotions of a dyad, nothing for neutral), so the label set may be empty; each cue label
    maps to the target label it converts to most strongly; ``vad``, ``confidence``, text and
    provenance are kept; ``extras["mapped_from"]`` names the original label set.
    Segments already in ``to_set`` (and ``to_set=None``) are returned unchanged.
    """
    if not to_set or all(s.label_set == to_set for s in result.segments):
        return result
    return replace(result, segments=tuple(map_segment(s, to_set) for s in result.segments))


def check_label_set(name: str) -> None:
    """Raise ``taxonomy.UnknownLabelSet`` now for a label set that does not exist."""
    get_label_set(name)
