"""The live-audio route of the processing layer: PCM in, one emotion result per speech segment out.

A live stream has no file to plan, so it is the one input kind that arrives in pieces: the
energy segmenter (``audio.live``) cuts the incoming samples into speech segments, each segment
goes through ``processing.analyze_items`` like any other audio item, and the result is
expressed in the requested label set by the taxonomy layer.  The service's WebSocket
(``service/stream.py``) only speaks the protocol around it; the library gets the same route as
``analyze_stream``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from affectlens.audio.live import EnergySegmenter, SpeechSegment, recognize_segment
from affectlens.protocols import Recognizer
from affectlens.taxonomy.results import map_result
from affectlens.types import EmotionResult


@dataclass
class LiveAnalysis:
    """One live stream: push samples (or PCM16 bytes), get segments; ``result`` analyses one (blocking)."""

    recognizer: Recognizer | None
    labels: str | None = None
    segmenter: EnergySegmenter = field(default_factory=EnergySegmenter)

    @property
    def seconds(self) -> float:
        return self.segmenter.seconds

    def push_pcm16(self, data: bytes) -> list[SpeechSegment]:
        return self.segmenter.push_pcm16(data)

    def push(self, samples: np.ndarray) -> list[SpeechSegment]:
        return self.segmenter.push(samples)

    def flush(self) -> list[SpeechSegment]:
        return self.segmenter.flush()

    def result(self, segment: SpeechSegment) -> EmotionResult:
        """The segment's result in ``labels`` (times in stream seconds)."""
        return map_result(recognize_segment(self.recognizer, segment), self.labels)


def start_live(recognizer: Recognizer | None, labels: str | None = None,
               segmenter: EnergySegmenter | None = None) -> LiveAnalysis:
    """A live analysis with ``recognizer`` (``None``: segments come back with times and a warning)."""
    return LiveAnalysis(recognizer, labels, segmenter if segmenter is not None else EnergySegmenter())


def analyze_stream(chunks: Iterable[np.ndarray], recognizer: Recognizer | None, *,
                   labels: str | None = None) -> Iterator[tuple[SpeechSegment, EmotionResult]]:
    """Each speech segment of a stream of 16 kHz mono float chunks, with its result, as soon as it closes."""
    live = start_live(recognizer, labels)
    for chunk in chunks:
        for segment in live.push(chunk):
            yield segment, live.result(segment)
    for segment in live.flush():
        yield segment, live.result(segment)


__all__ = ["LiveAnalysis", "analyze_stream", "start_live"]
