"""Voice activity detection (Silero VAD, ONNX) and its merging into utterance segments.

Why Silero: an energy gate calls every fan, car and music bar speech; Silero VAD is a
1.2 MB MIT-licensed network that runs faster than 60x real time on one core.  The file
(``silero_vad_16k_sequence.onnx``) is copied unchanged from the ``silero-vad==6.2.3``
wheel into ``models/vad-silero-v6/`` and its sha256 is checked at load: the wheel itself
depends on an unpinned ``torch``, which would pull a multi-GB build, and no torch is
needed at inference (we call onnxruntime directly).  The "sequence" export takes a block
of 32 ms frames per call and carries the LSTM state (``h``, ``c``) between calls, so a
stream of chunks gives exactly the probabilities of one pass over the whole file.

Segmentation (``Segmenter``), streaming and bounded in memory:

1. frames with speech probability >= ``threshold`` open a speech run; a run closes after
   ``min_silence_s`` of frames below ``neg_threshold`` (hysteresis: no flicker);
2. runs shorter than ``min_speech_s`` are noise and dropped;
3. neighbouring runs less than ``merge_gap_s`` apart are joined into one utterance while
   it stays within ``max_segment_s``; a run longer than ``max_segment_s`` is cut at its
   least speech-like frame;
4. utterances shorter than ``min_segment_s`` are skipped (too short to judge an emotion)
   and counted; the rest get ``pad_s`` of context on each side.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.model_folder import ModelFilesError, ModelFolder
from affectlens.models import MODELS_DIR

VAD_DIR = MODELS_DIR / "vad-silero-v6"
FRAME = 512  # samples per frame at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous frame the model sees
RATE = 16_000
FRAME_SECONDS = FRAME / RATE


# the one error type of model folders (``model_folder``), under the name this module always had
VadModelError = ModelFilesError


@dataclass(frozen=True)
class VadParams:
    """How speech probabilities become utterances (seconds unless named otherwise)."""

    threshold: float = 0.5
    neg_threshold: float = 0.35
    min_speech_s: float = 0.25
    min_silence_s: float = 0.3
    merge_gap_s: float = 0.5
    min_segment_s: float = 0.5
    max_segment_s: float = 10.0
    pad_s: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 < self.neg_threshold <= self.threshold < 1.0:
            raise ValueError("need 0 < neg_threshold <= threshold < 1")
        if self.max_segment_s <= max(self.min_segment_s, 1.0):
            raise ValueError(f"max_segment_s ({self.max_segment_s}) must exceed min_segment_s and 1 s")
        if min(self.min_speech_s, self.min_silence_s, self.merge_gap_s, self.min_segment_s, self.pad_s) < 0:
            raise ValueError("durations must not be negative")


@dataclass(frozen=True)
class Utterance:
    """One speech segment: times in seconds from the start of the stream, audio at 16 kHz."""

    start: float
    end: float
    samples: np.ndarray

    @property
    def duration(self) -> float:
        return self.end - self.start


class SileroVad:
    """Per-frame speech probabilities for a stream of 16 kHz chunks (stateful; ``reset()`` between files)."""

    def __init__(self, model_dir: str | Path | None = None, *, block_frames: int = 512) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else VAD_DIR
        self.block_frames = block_frames
        self._session: Any = None
        self.reset()

    def load(self) -> None:
        if self._session is not None:
            return
        folder = ModelFolder.read(self.model_dir, kind="VAD", required_keys=("file",))
        path = folder.check_files([str(folder.config["file"])]).path / str(folder.config["file"])
        import onnxruntime as ort

        from affectlens.runtime_threads import session_options

        # 512-sample frames, one at a time: a pool would only add hand-over cost
        options = session_options(ort, threads=1, optimize=False)
        self._session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(CONTEXT, np.float32)
        self._pending = np.zeros(0, np.float32)

    def push(self, chunk: np.ndarray) -> np.ndarray:
        """Probabilities of the complete frames now available (leftover samples wait for more)."""
        self.load()
        audio = np.concatenate([self._pending, np.asarray(chunk, np.float32)]) if self._pending.size else chunk
        n = audio.size // FRAME
        self._pending = np.array(audio[n * FRAME:], np.float32)
        return self._run(audio[: n * FRAME]) if n else np.zeros(0, np.float32)

    def flush(self) -> np.ndarray:
        """The probability of the last, zero-padded partial frame (if any)."""
        if not self._pending.size:
            return np.zeros(0, np.float32)
        frame = np.zeros(FRAME, np.float32)
        frame[: self._pending.size] = self._pending
        self._pending = np.zeros(0, np.float32)
        return self._run(frame)

    def _run(self, audio: np.ndarray) -> np.ndarray:
        frames = np.ascontiguousarray(audio, np.float32).reshape(-1, FRAME)
        out: list[np.ndarray] = []
        for first in range(0, frames.shape[0], self.block_frames):
            block = frames[first:first + self.block_frames]
            contexts = np.empty((block.shape[0], CONTEXT), np.float32)
            contexts[0] = self._context
            if block.shape[0] > 1:
                contexts[1:] = block[:-1, -CONTEXT:]
            self._context = block[-1, -CONTEXT:].copy()
            probs, self._h, self._c = self._session.run(
                ["speech_probs", "hn", "cn"],
                {"input": np.concatenate([contexts, block], axis=1), "h": self._h, "c": self._c},
            )
            out.append(np.asarray(probs, np.float32).reshape(-1))
        return np.concatenate(out) if out else np.zeros(0, np.float32)


class Segmenter:
    """Speech probabilities (one per 32 ms frame) in, (start, end) sample ranges out, streaming."""

    def __init__(self, params: VadParams | None = None) -> None:
        self.params = params or VadParams()
        p = self.params
        self._min_silence = max(1, round(p.min_silence_s / FRAME_SECONDS))
        self._min_speech = max(1, round(p.min_speech_s / FRAME_SECONDS))
        self._max_frames = max(2, int(p.max_segment_s / FRAME_SECONDS))
        self._merge_gap = round(p.merge_gap_s / FRAME_SECONDS)
        self.frame = 0  # frames seen
        self.skipped_short = 0
        self._run_start: int | None = None
        self._silence_start: int | None = None
        self._run_probs: list[float] = []
        self._held: tuple[int, int] | None = None  # an utterance waiting to see if the next run joins it

    def push(self, probs: Iterable[float]) -> list[tuple[int, int]]:
        """Frame ranges [start, end) of utterances completed by these frames."""
        done: list[tuple[int, int]] = []
        p = self.params
        for prob in probs:
            i = self.frame
            self.frame += 1
            if self._run_start is None:
                if prob >= p.threshold:
                    self._run_start, self._silence_start, self._run_probs = i, None, [float(prob)]
                    done.extend(self._hold_check(i))
                continue
            self._run_probs.append(float(prob))
            if prob >= p.threshold:
                self._silence_start = None
            elif prob < p.neg_threshold and self._silence_start is None:
                self._silence_start = i
            if self._silence_start is not None and i + 1 - self._silence_start >= self._min_silence:
                done.extend(self._end_run(self._silence_start))
            elif i + 1 - self._run_start >= self._max_frames:
                done.extend(self._cut_long_run())
        return done

    def flush(self) -> list[tuple[int, int]]:
        done: list[tuple[int, int]] = []
        if self._run_start is not None:
            end = self._silence_start if self._silence_start is not None else self.frame
            done.extend(self._end_run(end))
        if self._held is not None:
            done.extend(self._emit(self._held))
            self._held = None
        return done

    @property
    def earliest_open_frame(self) -> int:
        """No utterance will start before this frame any more (audio before it may be dropped)."""
        candidates = [self.frame]
        if self._run_start is not None:
            candidates.append(self._run_start)
        if self._held is not None:
            candidates.append(self._held[0])
        return min(candidates)

    def _cut_long_run(self) -> list[tuple[int, int]]:
        assert self._run_start is not None
        probs = np.asarray(self._run_probs)
        half = len(probs) // 2
        cut = self._run_start + half + int(np.argmin(probs[half:]))  # least speech-like frame in the second half
        cut = max(cut, self._run_start + 1)
        done = self._end_run(cut)
        self._run_start, self._silence_start = cut, None
        self._run_probs = [float(x) for x in probs[cut - (self.frame - len(probs)):]]
        return done

    def _end_run(self, end: int) -> list[tuple[int, int]]:
        assert self._run_start is not None
        start = self._run_start
        self._run_start, self._silence_start, self._run_probs = None, None, []
        if end - start < self._min_speech:
            return []
        held = self._held
        if held is not None and start - held[1] <= self._merge_gap and end - held[0] <= self._max_frames:
            self._held = (held[0], end)
            return []
        done = self._emit(held) if held is not None else []
        self._held = (start, end)
        return done

    def _hold_check(self, now: int) -> list[tuple[int, int]]:
        """Release the held utterance once a new run starts too late to join it."""
        if self._held is not None and now - self._held[1] > self._merge_gap:
            done = self._emit(self._held)
            self._held = None
            return done
        return []

    def _emit(self, span: tuple[int, int]) -> list[tuple[int, int]]:
        if (span[1] - span[0]) * FRAME_SECONDS < self.params.min_segment_s:
            self.skipped_short += 1
            return []
        return [span]


@dataclass
class SegmentationStats:
    seconds: float = 0.0
    speech_seconds: float = 0.0
    segments: int = 0
    skipped_short: int = 0


def iter_utterances(
    chunks: Iterable[np.ndarray],
    vad: SileroVad,
    params: VadParams | None = None,
    stats: SegmentationStats | None = None,
) -> Iterator[Utterance]:
    """Utterances of a stream of 16 kHz mono chunks, in order, holding only the open audio in memory."""
    params = params or VadParams()
    segmenter = Segmenter(params)
    stats = stats if stats is not None else SegmentationStats()
    vad.reset()
    buffer = _AudioBuffer()
    pad = int(params.pad_s * RATE)
    last_end = 0

    def cut(spans: list[tuple[int, int]]) -> Iterator[Utterance]:
        nonlocal last_end
        for first, stop in spans:
            a = max(first * FRAME - pad, last_end, buffer.start)
            b = min(stop * FRAME + pad, buffer.end)
            last_end = b
            stats.segments += 1
            stats.speech_seconds += (b - a) / RATE
            yield Utterance(a / RATE, b / RATE, buffer.slice(a, b))

    for chunk in chunks:
        chunk = np.asarray(chunk, np.float32).reshape(-1)
        if not chunk.size:
            continue
        buffer.append(chunk)
        yield from cut(segmenter.push(vad.push(chunk)))
        buffer.drop_before(segmenter.earliest_open_frame * FRAME - pad - FRAME)
    yield from cut(segmenter.push(vad.flush()))
    yield from cut(segmenter.flush())
    stats.seconds = buffer.end / RATE
    stats.skipped_short = segmenter.skipped_short


class _AudioBuffer:
    """Samples [start, end) of a stream, as a list of arrays (cheap appends and front drops)."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []
        self.start = 0
        self.end = 0

    def append(self, x: np.ndarray) -> None:
        self.parts.append(x)
        self.end += x.size

    def drop_before(self, sample: int) -> None:
        while self.parts and self.start + self.parts[0].size <= sample:
            self.start += self.parts[0].size
            self.parts.pop(0)

    def slice(self, a: int, b: int) -> np.ndarray:
        a, b = max(a, self.start), min(b, self.end)
        if b <= a:
            return np.zeros(0, np.float32)
        out = np.empty(b - a, np.float32)
        pos = self.start
        for part in self.parts:
            lo, hi = max(a, pos), min(b, pos + part.size)
            if lo < hi:
                out[lo - a:hi - a] = part[lo - pos:hi - pos]
            pos += part.size
            if pos >= b:
                break
        return out
