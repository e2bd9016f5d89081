"""A deterministic keyword recognizer over the ``ekman`` label set, and its registry entry.

Not a model and not registered by default: tests and demos call ``register_dummy()`` (the
test suite does so in ``tests/conftest.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from affectlens.inputs import InputError, as_text_item
from affectlens.recognizer_params import RecognizerParams
from affectlens.registry import RecognizerSpec, register
from affectlens.types import Cue, EmotionResult, Modality, Provenance, Segment

#: Ekman emotion -> keywords.  A demo lexicon written for tests, not a research resource.
DUMMY_LEXICON: Mapping[str, tuple[str, ...]] = {
    "joy": (
        "happy",
        "glad",
        "joy",
        "joyful",
        "love",
        "loved",
        "lovely",
        "great",
        "wonderful",
        "delighted",
        "awesome",
        "thanks",
        "thank",
        "excited",
        "fun",
        "enjoy",
        "enjoyed",
        "best",
        "smile",
        "proud",
    ),
    "sadness": (
        "sad",
        "unhappy",
        "miss",
        "lonely",
        "cry",
        "cried",
        "crying",
        "grief",
        "depressed",
        "sorry",
        "heartbroken",
        "tears",
        "lost",
        "disappointed",
        "alone",
    ),
    "anger": (
        "angry",
        "furious",
        "mad",
        "hate",
        "hated",
        "annoyed",
        "rage",
        "outraged",
        "irritated",
        "annoying",
        "unacceptable",
    ),
    "fear": (
        "afraid",
        "scared",
        "fear",
        "terrified",
        "worried",
        "nervous",
        "anxious",
        "panic",
        "frightened",
        "dread",
    ),
    "disgust": ("disgusting", "gross", "disgusted", "revolting", "nasty", "sickening", "vile"),
    "surprise": (
        "surprised",
        "wow",
        "amazing",
        "unexpected",
        "shocked",
        "astonished",
        "suddenly",
        "unbelievable",
    ),
}
#: other names the same emotions may have in a label set
_ALIASES: Mapping[str, tuple[str, ...]] = {
    "joy": ("joy", "happiness", "happy"),
    "sadness": ("sadness", "sad"),
    "anger": ("anger", "angry"),
    "fear": ("fear", "fearful"),
    "disgust": ("disgust",),
    "surprise": ("surprise", "surprised"),
}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


class DummyRecognizer(RecognizerParams):
    """Deterministic keyword matcher over the ``ekman`` label set (for tests and demos).

    Each keyword found in a text is a ``word`` cue with its character span; scores are
    keyword counts (plus a neutral share and a little smoothing) normalised to sum to 1;
    ``labels`` are the labels scoring at least ``threshold`` (else the top one); VAD
    comes from ``taxonomy.vad_from_scores``.
    """

    RUNTIME_PARAMS = frozenset({"threshold"})  # analysis only: with_params copies share the model

    name = "dummy.keywords.v1"
    version = "v1"
    modality = Modality.TEXT
    label_set = "ekman"

    def __init__(self, *, threshold: float = 0.3) -> None:
        self.threshold = threshold
        self._labels: tuple[str, ...] | None = None
        self._keywords: dict[str, str] = {}

    @property
    def is_loaded(self) -> bool:
        return self._labels is not None

    def load(self) -> None:
        if self._labels is not None:
            return
        from affectlens.taxonomy import get_label_set

        labels = tuple(get_label_set(self.label_set).labels)
        keywords: dict[str, str] = {}
        for emotion, words in DUMMY_LEXICON.items():
            target = next((a for a in _ALIASES[emotion] if a in labels), None)
            if target is not None:
                keywords.update(dict.fromkeys(words, target))
        self._keywords = keywords
        self._labels = labels

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        self.load()
        return [self._analyze_one(value) for value in batch]

    def _analyze_one(self, value: Any) -> EmotionResult:
        try:
            item = as_text_item(value)
        except InputError as exc:
            return EmotionResult((), warnings=(str(exc),))
        if not item.text.strip():
            return EmotionResult((), item.source, ("empty text",), item.record_id)
        assert self._labels is not None
        cues: list[Cue] = []
        for match in _WORD.finditer(item.text):
            label = self._keywords.get(match.group().lower())
            if label is not None:
                cues.append(Cue("word", match.group(), 1.0, label, (match.start(), match.end())))
        counts = dict.fromkeys(self._labels, 0.01)  # smoothing: no label is ever exactly 0
        for cue in cues:
            counts[str(cue.label)] += 1.0
        if "neutral" in counts:
            counts["neutral"] += 0.2 if cues else 1.0
        total = sum(counts.values())
        scores = {label: count / total for label, count in counts.items()}
        for i, cue in enumerate(cues):  # weight: the share of the evidence this word carries
            cues[i] = Cue(cue.kind, cue.phrase, round(1.0 / len(cues), 4), cue.label, cue.span)
        top = max(scores, key=lambda k: scores[k])
        labels = tuple(
            sorted((k for k, v in scores.items() if v >= self.threshold), key=lambda k: -scores[k])
        )
        from affectlens.taxonomy import vad_from_scores

        segment = Segment(
            modality=Modality.TEXT,
            label_set=self.label_set,
            scores=scores,
            labels=labels or (top,),
            vad=vad_from_scores(scores, self.label_set),
            confidence=scores[top],
            provenance=Provenance(self.name, self.version),
            cues=tuple(cues),
            source=item.source,
            text=item.text,
            speaker=item.speaker,
            turn=item.turn,
            start=item.start,
            end=item.end,
            record_id=item.record_id,
        )
        return EmotionResult((segment,), item.source, (), item.record_id)


#: the registry entry of ``DummyRecognizer``: tests and demos register it, the package never does
DUMMY_SPEC = RecognizerSpec(
    name="dummy.keywords.v1",
    modality=Modality.TEXT,
    label_set="ekman",
    factory="affectlens.testing.dummy:DummyRecognizer",
    description="Keyword matcher for tests and demos of the contract; not a model.",
    license="Apache-2.0",
    training_data="none",
    headline_metric="n/a",
)


def register_dummy() -> RecognizerSpec:
    """Register ``dummy.keywords.v1`` (again, harmlessly) so that it can be named like a shipped model."""
    return register(DUMMY_SPEC, replace=True)
