"""A live audio stream, cut into speech segments as it arrives, each analysed through the processing layer.

The service's ``/v1/stream/audio`` WebSocket feeds raw PCM here (``EnergySegmenter``) and sends
each ``recognize_segment`` result back; the walk of a segment is ``processing.analyze_items``
(the same batching, failure handling and stamping as every other input).

Why an energy gate here and not ``audio.vad`` (Silero), which files use: the stream has always
been cut by frame energy, clients and tests rely on its segments, and Silero disagrees on
non-speech sounds -- on a synthetic two-voice file (harmonic tones, 5.5 s) the energy gate
finds two segments (0.39-2.10 s, 2.91-5.10 s) while Silero's speech probability stays below
0.15 and it finds none.  The speech recognizer still runs its own VAD inside each segment.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from affectlens.inputs import AudioClip
from affectlens.protocols import Recognizer
from affectlens.types import EmotionResult, Modality

SAMPLE_RATE = 16_000
NO_RECOGNIZER = "no speech recognizer installed"


@dataclass(frozen=True)
class SpeechSegment:
    index: int
    start: float  # seconds from the start of the stream
    end: float
    samples: np.ndarray  # float32 in [-1, 1]


class EnergySegmenter:
    """Cuts a stream into speech segments by frame energy, with hysteresis and padding.

    A frame (``frame_ms``) is voiced when its RMS level is above ``threshold_db`` dBFS.
    A segment starts after ``min_speech_ms`` of voiced frames, ends after
    ``min_silence_ms`` of unvoiced ones (keeping ``pad_ms`` of context each side), and
    is cut at ``max_segment_s`` so memory and latency stay bounded.
    """

    def __init__(
        self,
        sample_rate: int = SAMPLE_RATE,
        *,
        frame_ms: float = 30.0,
        threshold_db: float = -40.0,
        min_speech_ms: float = 90.0,
        min_silence_ms: float = 300.0,
        max_segment_s: float = 10.0,
        pad_ms: float = 90.0,
    ) -> None:
        self.sample_rate = sample_rate
        self.frame_len = max(1, round(sample_rate * frame_ms / 1000))
        self.threshold_db = threshold_db
        frames = lambda ms: max(1, math.ceil(ms / frame_ms))  # noqa: E731
        self.min_speech_frames = frames(min_speech_ms)
        self.min_silence_frames = frames(min_silence_ms)
        self.max_segment_frames = frames(max_segment_s * 1000)
        self.pad_frames = round(pad_ms / frame_ms)
        self._carry = np.zeros(0, dtype=np.float32)  # samples short of a whole frame
        self._odd_byte = b""
        self._frame_index = 0  # frames seen so far
        self._pre: deque[np.ndarray] = deque(maxlen=max(1, self.pad_frames))
        self._candidate: list[np.ndarray] = []  # voiced frames not yet long enough to start
        self._segment: list[np.ndarray] = []
        self._segment_start = 0  # frame index of the segment's first frame
        self._last_voiced = 0  # frames into the segment up to the last voiced one
        self._silence = 0
        self._count = 0

    @property
    def seconds(self) -> float:
        return (self._frame_index * self.frame_len + len(self._carry)) / self.sample_rate

    @property
    def in_speech(self) -> bool:
        return bool(self._segment)

    def push_pcm16(self, data: bytes) -> list[SpeechSegment]:
        data = self._odd_byte + data
        cut = len(data) - len(data) % 2
        self._odd_byte = data[cut:]
        samples = np.frombuffer(data[:cut], dtype="<i2").astype(np.float32) / 32768.0
        return self.push(samples)

    def push(self, samples: np.ndarray) -> list[SpeechSegment]:
        buffer = np.concatenate([self._carry, np.asarray(samples, dtype=np.float32)])
        whole = len(buffer) - len(buffer) % self.frame_len
        out: list[SpeechSegment] = []
        for offset in range(0, whole, self.frame_len):
            segment = self._frame(buffer[offset : offset + self.frame_len])
            if segment is not None:
                out.append(segment)
        self._carry = buffer[whole:].copy()
        return out

    def flush(self) -> list[SpeechSegment]:
        """End of stream: the open segment (if any) comes out."""
        out = [self._close()] if self._segment else []
        self._candidate.clear()
        return out

    # -- one frame --------------------------------------------------------------------------
    def _frame(self, frame: np.ndarray) -> SpeechSegment | None:
        rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2)))
        voiced = 20 * math.log10(max(rms, 1e-10)) > self.threshold_db
        index = self._frame_index
        self._frame_index += 1
        if not self._segment:
            if voiced:
                self._candidate.append(frame)
                if len(self._candidate) >= self.min_speech_frames:
                    pre = list(self._pre)
                    self._segment = [*pre, *self._candidate]
                    self._segment_start = index + 1 - len(self._candidate) - len(pre)
                    self._last_voiced = len(self._segment)
                    self._silence = 0
                    self._candidate = []
                    self._pre.clear()
            else:
                for held in self._candidate:
                    self._pre.append(held)
                self._candidate = []
                self._pre.append(frame)
            return None
        self._segment.append(frame)
        if voiced:
            self._last_voiced = len(self._segment)
            self._silence = 0
        else:
            self._silence += 1
        if self._silence >= self.min_silence_frames:
            return self._close()
        if len(self._segment) >= self.max_segment_frames:
            return self._close(split=True)
        return None

    def _close(self, split: bool = False) -> SpeechSegment:
        keep = len(self._segment) if split else min(len(self._segment), self._last_voiced + self.pad_frames)
        frames = self._segment[:keep]
        start = self._segment_start * self.frame_len / self.sample_rate
        end = (self._segment_start + keep) * self.frame_len / self.sample_rate
        segment = SpeechSegment(self._count, round(start, 3), round(end, 3), np.concatenate(frames))
        self._count += 1
        # after a split the speech goes on: the next voiced frames start a new segment at once
        self._segment = []
        self._candidate = []
        self._silence = 0
        self._pre.clear()
        return segment


def recognize_segment(recognizer: Recognizer | None, segment: SpeechSegment) -> EmotionResult:
    """One segment's result (blocking: run it in a thread); times are stream seconds."""
    if recognizer is None:
        return EmotionResult((), None, (f"segment {segment.index}: {NO_RECOGNIZER}",))
    from affectlens import processing

    clip = AudioClip(segment.samples, SAMPLE_RATE, source=None, offset=segment.start)
    item = processing.WorkItem(f"segment {segment.index}", Modality.SPEECH, clip)
    pool = processing.RecognizerPool(recognizer)
    [result] = list(processing.analyze_items([item], pool, batch_size=1))
    segments = tuple(
        s if s.start is not None else replace(s, start=segment.start, end=segment.end) for s in result.segments
    )
    return replace(result, segments=segments)


__all__ = ["NO_RECOGNIZER", "SAMPLE_RATE", "EnergySegmenter", "SpeechSegment", "recognize_segment"]
