"""Peer: the NRC Emotion Lexicon (Mohammad & Turney 2013) as shipped by the ``nrclex`` package.

A word-count baseline on the labels the lexicon can express.  The lexicon tags 6,468 English
words with Plutchik's eight emotions and two sentiments; six of the emotions are Ekman's, so the
recognizer speaks the ``ekman`` label set: a text's score for anger, disgust, fear, joy, sadness
or surprise is that emotion's share of the emotion-word hits, and a text without any hit is
``neutral``.  Plutchik's trust and anticipation have no Ekman counterpart and are not used (the
lexicon's 'positive'/'negative' tags neither).  Words are lower-cased alphabetic tokens looked
up as they are (nrclex's own ``load_raw_text`` would need TextBlob's tokenizer data, a download).
Scores are proportions of hits, not calibrated probabilities.

The lexicon's terms of use: research and non-commercial use; cite Mohammad & Turney (2013),
"Crowdsourcing a Word-Emotion Association Lexicon", Computational Intelligence 29(3).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from affectlens.inputs import TextItem
from affectlens.recognizer_params import RecognizerParams
from affectlens.recognizers.peer_common import _segment, analyze_each
from affectlens.types import Cue, EmotionResult, Modality

NRC_NAME = "peer.nrc-lexicon.v1"
EXPRESSIBLE = ("anger", "disgust", "fear", "joy", "sadness", "surprise")
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")


class NrcLexiconRecognizer(RecognizerParams):
    """NRC Emotion Lexicon word counts over the ``ekman`` label set (neutral = no emotion word)."""

    RUNTIME_PARAMS = frozenset({"n_cues"})  # analysis only: with_params copies share the model

    modality = Modality.TEXT
    label_set = "ekman"

    def __init__(self, *, name: str = NRC_NAME, n_cues: int = 5) -> None:
        self.name = name
        self.version = name.rsplit(".", 1)[-1]
        self.n_cues = n_cues
        self._lexicon: dict[str, tuple[str, ...]] | None = None

    def load(self) -> None:
        if self._lexicon is not None:
            return
        try:
            import importlib.resources

            raw = (importlib.resources.files("nrclex") / "data" / "nrc_en.json").read_text(encoding="utf-8")
        except (ImportError, ModuleNotFoundError) as err:
            raise ImportError(f"{self.name} needs the nrclex package: pip install 'affectlens[bench]'") from err
        entries: dict[str, list[str]] = json.loads(raw)
        self._lexicon = {word: tuple(t for t in tags if t in EXPRESSIBLE) for word, tags in entries.items()}

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        if not batch:
            return []
        self.load()
        return analyze_each(batch, self._analyze_one)

    def _analyze_one(self, item: TextItem) -> EmotionResult:
        from affectlens.taxonomy import vad_from_scores

        assert self._lexicon is not None
        counts = dict.fromkeys(EXPRESSIBLE, 0)
        hits: list[tuple[tuple[int, int], str, str]] = []  # (span, word, emotion)
        for match in _TOKEN.finditer(item.text.lower()):
            for emotion in self._lexicon.get(match.group(), ()):
                counts[emotion] += 1
                hits.append((match.span(), match.group(), emotion))
        total = sum(counts.values())
        if total == 0:
            scores = {**dict.fromkeys(EXPRESSIBLE, 0.0), "neutral": 1.0}
            labels: tuple[str, ...] = ("neutral",)
        else:
            scores = {**{e: counts[e] / total for e in EXPRESSIBLE}, "neutral": 0.0}
            top = max(counts.values())
            labels = tuple(e for e in EXPRESSIBLE if counts[e] == top)
        cues = tuple(
            Cue(kind="word", phrase=f'"{item.text[start:end]}" → {emotion} (NRC lexicon)', weight=1.0 / total,
                label=emotion, span=(start, end))
            for (start, end), _word, emotion in hits[: self.n_cues])
        segment = _segment(item, label_set=self.label_set, scores=scores, labels=labels,
                           vad=vad_from_scores(scores, self.label_set), confidence=max(scores.values()),
                           name=self.name, version=self.version, cues=cues)
        return EmotionResult((segment,), item.source)
