from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from affectlens.audio.transcribe import Word, WordTranscriber, slice_segments

RATE = 16_000


class FakeWhisper:
    """faster-whisper's ``transcribe`` shape: one segment whose words split the clip in halves."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def transcribe(self, samples: np.ndarray, **options: Any) -> tuple[Any, Any]:
        self.calls.append(options)
        half = samples.size / RATE / 2
        words = [SimpleNamespace(word=" hello", start=0.0, end=half, probability=0.9),
                 SimpleNamespace(word=" ", start=half, end=half, probability=0.1),
                 SimpleNamespace(word=" world.", start=half, end=2 * half, probability=0.8)]
        return iter([SimpleNamespace(text=" hello world.", words=words)]), SimpleNamespace(language="en")


def test_words_are_shifted_to_file_time_and_blank_words_dropped() -> None:
    fake = FakeWhisper()
    words = WordTranscriber(model=fake).transcribe(np.zeros(2 * RATE, np.float32), offset=10.0)
    assert words == (Word("hello", 10.0, 11.0, 0.9), Word("world.", 11.0, 12.0, 0.8))
    # greedy, word timestamps, and no second VAD inside Whisper
    assert fake.calls[0]["beam_size"] == 1 and fake.calls[0]["word_timestamps"] is True
    assert fake.calls[0]["vad_filter"] is False


def test_too_short_a_segment_is_not_decoded() -> None:
    fake = FakeWhisper()
    assert WordTranscriber(model=fake).transcribe(np.zeros(RATE // 20, np.float32)) == ()
    assert fake.calls == []


def test_slice_segments_returns_each_window_across_chunk_borders() -> None:
    signal = np.arange(10 * RATE, dtype=np.float32)
    chunks = [signal[i:i + 3 * RATE] for i in range(0, signal.size, 3 * RATE)]
    windows = [(0.5, 1.0), (2.5, 4.25), (4.0, 4.5), (8.9, 12.0)]
    got = list(slice_segments(iter(chunks), windows))
    assert [g.size for g in got] == [RATE // 2, int(1.75 * RATE), RATE // 2, int(1.1 * RATE)]
    for (start, _), piece in zip(windows, got, strict=True):
        assert piece[0] == round(start * RATE)  # the samples are the right ones, not just the right count


def test_slice_segments_past_the_end_gives_empty_pieces() -> None:
    got = list(slice_segments(iter([np.ones(RATE, np.float32)]), [(0.0, 0.5), (2.0, 3.0)]))
    assert [g.size for g in got] == [RATE // 2, 0]


@pytest.mark.slow
@pytest.mark.data
def test_pinned_tiny_en_writes_the_ravdess_sentence() -> None:
    pytest.importorskip("faster_whisper")
    sf = pytest.importorskip("soundfile")
    from affectlens.bench.datasets import data_root

    files = sorted((data_root() / "ravdess_speech_16k").glob("Actor_01/*-01-01-01-01-01-01.flac"))
    if not files:
        pytest.skip("RAVDESS (16 kHz) not staged")
    from affectlens.audio.whisper_encoder import WhisperEncoderUnavailable

    samples, rate = sf.read(files[0], dtype="float32")
    assert rate == RATE
    try:
        words = WordTranscriber(threads=2).transcribe(samples, offset=1.0)
    except WhisperEncoderUnavailable as exc:
        pytest.skip(str(exc))
    # statement 01 is "Kids are talking by the door"
    assert [w.text.strip(".,!").lower() for w in words] == ["kids", "are", "talking", "by", "the", "door"]
    assert all(1.0 <= w.start <= w.end <= 1.0 + samples.size / RATE + 0.1 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)
