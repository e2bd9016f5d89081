"""The live-audio route: samples in pieces -> one result per speech segment, in the asked label set."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent / "service"))
from service_helpers import FakeSpeechRecognizer, silence, tone

import affectlens


def _chunks(x: np.ndarray, size: int = 1_600) -> list[np.ndarray]:
    return [x[i : i + size] for i in range(0, len(x), size)]


def test_a_stream_in_pieces_gives_each_segment_with_its_result_and_times() -> None:
    audio = np.concatenate([silence(0.5), tone(1.0, 0.5), silence(1.0), tone(1.2, 0.05), silence(0.6)])
    out = list(affectlens.analyze_stream(_chunks(audio), FakeSpeechRecognizer()))
    starts = [s.start for s, _ in out]  # the segmenter keeps a little audio before the speech
    assert len(starts) == 2 and 0.3 <= starts[0] <= 0.5 and 2.3 <= starts[1] <= 2.5
    assert [r.segments[0].top_label for _, r in out] == ["anger", "sadness"]
    assert [r.segments[0].start for _, r in out] == [s.start for s, _ in out]


def test_the_live_route_maps_labels_and_reports_without_a_recognizer() -> None:
    audio = np.concatenate([silence(0.3), tone(1.0, 0.5), silence(1.0)])
    [(_, mapped)] = list(affectlens.analyze_stream(_chunks(audio), FakeSpeechRecognizer(), labels="sentiment"))
    assert mapped.segments[0].label_set == "sentiment" and mapped.segments[0].top_label == "negative"
    [(_, empty)] = list(affectlens.analyze_stream(_chunks(audio), None))
    assert empty.segments == () and "no speech recognizer" in empty.warnings[0]
