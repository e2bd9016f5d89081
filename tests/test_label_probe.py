"""label_probe: the labels of a recognizer whose label set the taxonomy does not know."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from affectlens.inputs import AudioClip, ImageFrame
from affectlens.label_probe import PROBE_TEXT, probe_input, probed_labels
from affectlens.types import EmotionResult, Modality, Provenance, Segment


class OwnLabels:
    """A plugin-like recognizer over a label set of its own; it records what it was asked."""

    name, version, label_set = "text.own.v1", "v1", "own-set"

    def __init__(self, modality: Modality, answers: bool = True) -> None:
        self.modality = modality
        self.answers = answers
        self.seen: list[Any] = []

    def load(self) -> None:
        pass

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        self.seen += list(batch)
        if not self.answers:
            return [EmotionResult((), warnings=("no face",)) for _ in batch]
        scores = {"calm-ish": 0.7, "edgy": 0.3}
        segment = Segment(self.modality, self.label_set, scores, ("calm-ish",), None, 0.7,
                          Provenance(self.name, self.version))
        return [EmotionResult((segment,)) for _ in batch]


def test_the_labels_come_from_the_recognizers_answer() -> None:
    recognizer = OwnLabels(Modality.TEXT)
    assert probed_labels(recognizer) == ("calm-ish", "edgy")
    assert recognizer.seen == [PROBE_TEXT]


def test_every_modality_with_a_recognizer_gets_a_probe_of_its_kind() -> None:
    assert isinstance(probe_input(Modality.DIALOGUE), str)
    clip = probe_input(Modality.SPEECH)
    assert isinstance(clip, AudioClip) and clip.sample_rate == 16_000 and np.abs(clip.samples).max() > 0.1
    assert isinstance(probe_input(Modality.FACE), ImageFrame)
    assert probe_input(Modality.FUSED) is None


def test_no_segment_or_no_probe_gives_no_labels() -> None:
    assert probed_labels(OwnLabels(Modality.FACE, answers=False)) == ()
    silent = OwnLabels(Modality.FUSED)
    assert probed_labels(silent) == () and silent.seen == []
