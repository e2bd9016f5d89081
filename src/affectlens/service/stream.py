"""Streaming audio over a WebSocket: framing, buffering, energy segmentation, per-segment results.

Protocol of ``/v1/stream/audio`` (see ``docs/service.md``):

* the client sends BINARY messages of raw PCM: 16 kHz, signed 16-bit little-endian, mono,
  any length (an odd trailing byte is kept for the next message); TEXT messages are JSON
  controls: ``{"type": "end"}`` ends the stream (the open segment is flushed);
* the server first sends ``{"type": "ready", ...}`` naming the speech recognizer (or
  ``null`` with a warning), then one ``{"type": "segment", "index", "start", "end",
  "result"}`` per detected speech segment, in order, as soon as it is analysed, and
  ``{"type": "done", ...}`` before closing; problems are ``{"type": "error", "error"}``.

Decision: with no speech recognizer installed the connection is still accepted and every
segment is reported with its times and an empty result whose warning says "no speech
recognizer installed" -- clients can be written (and tested) against the final protocol
today, and gain emotions when the recognizer lands, with no change.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

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


async def run_stream(
    websocket: Any,
    *,
    recognizer: Recognizer | None,
    executor: Any,
    max_seconds: float,
    max_message_bytes: int,
    labels: str | None = None,
    segmenter_factory: Callable[[], EnergySegmenter] = EnergySegmenter,
) -> None:
    """Serve one accepted WebSocket until the client ends the stream or goes away."""
    from starlette.websockets import WebSocketDisconnect

    from affectlens.processing import map_result

    loop = asyncio.get_running_loop()
    segmenter = segmenter_factory()
    queue: asyncio.Queue[SpeechSegment | None] = asyncio.Queue()
    sent = 0

    async def sender() -> None:
        nonlocal sent
        while (segment := await queue.get()) is not None:
            result = await loop.run_in_executor(executor, recognize_segment, recognizer, segment)
            await websocket.send_json({
                "type": "segment", "index": segment.index, "start": segment.start, "end": segment.end,
                "result": map_result(result, labels).to_dict(),
            })
            sent += 1

    ready: dict[str, Any] = {"type": "ready", "sample_rate": SAMPLE_RATE, "encoding": "pcm_s16le", "channels": 1,
                             "recognizer": recognizer.name if recognizer else None}
    if recognizer is None:
        ready["warning"] = f"{NO_RECOGNIZER}: segments are reported with their times and no emotions"
    await websocket.send_json(ready)
    task = asyncio.create_task(sender())
    close_code = 1000
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            data: bytes | None = message.get("bytes")
            text: str | None = message.get("text")
            if data is not None:
                if len(data) > max_message_bytes:
                    too_big = f"message larger than {max_message_bytes} bytes"
                    await websocket.send_json({"type": "error", "error": too_big})
                    close_code = 1009
                    break
                for segment in segmenter.push_pcm16(data):
                    queue.put_nowait(segment)
                if segmenter.seconds > max_seconds:
                    await websocket.send_json({"type": "error", "error": f"stream longer than {max_seconds:g} s"})
                    close_code = 1008
                    break
            elif text is not None:
                try:
                    control = json.loads(text)
                except ValueError:
                    await websocket.send_json({"type": "error", "error": "text messages must be JSON controls"})
                    continue
                if isinstance(control, dict) and control.get("type") == "end":
                    break
                await websocket.send_json({"type": "error",
                                           "error": 'unknown control; send binary PCM16 audio or {"type": "end"}'})
        for segment in segmenter.flush():
            queue.put_nowait(segment)
        queue.put_nowait(None)
        await task
        await websocket.send_json({"type": "done", "segments": sent, "seconds": round(segmenter.seconds, 3)})
        await websocket.close(code=close_code)
    except WebSocketDisconnect:
        task.cancel()
    except BaseException:
        task.cancel()
        raise
