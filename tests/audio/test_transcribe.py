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


def test_a_multilingual_model_detects_the_language_and_each_word_carries_it() -> None:
    class Italian(FakeWhisper):
        def transcribe(self, samples: np.ndarray, **options: Any) -> tuple[Any, Any]:
            segments, _ = super().transcribe(samples, **options)
            return segments, SimpleNamespace(language="it")

    fake = Italian()
    words = WordTranscriber(model=fake, model_name="base", language=None).transcribe(np.zeros(RATE, np.float32))
    assert fake.calls[0]["language"] is None and {w.language for w in words} == {"it"}
    assert words[0].to_dict()["language"] == "it"
    assert "language" not in WordTranscriber(model=FakeWhisper()).transcribe(np.zeros(RATE, np.float32))[0].to_dict()
    with pytest.raises(ValueError, match="English only"):
        WordTranscriber(language="it")
    with pytest.raises(ValueError, match="model_name"):
        WordTranscriber(model_name="large")


class RegionWhisper:
    """One word per stretch of non-silent audio, timed to that stretch: shows where packed audio goes."""

    def __init__(self) -> None:
        self.calls = 0

    def transcribe(self, samples: np.ndarray, **options: Any) -> tuple[Any, Any]:
        self.calls += 1
        loud = np.abs(samples) > 0
        edges = np.flatnonzero(np.diff(np.concatenate([[0], loud.astype(np.int8), [0]])))
        words = [SimpleNamespace(word=f" w{round(float(np.max(samples[a:b])), 1)}", start=a / RATE, end=b / RATE,
                                 probability=1.0) for a, b in zip(edges[::2], edges[1::2], strict=True)]
        return iter([SimpleNamespace(text="", words=words)]), None


def test_packed_segments_are_decoded_together_and_words_go_back_to_their_segment() -> None:
    fake = RegionWhisper()
    pieces = [(np.full(2 * RATE, amp, np.float32), offset) for amp, offset in ((0.1, 5.0), (0.2, 9.0), (0.3, 40.0))]
    got = list(WordTranscriber(model=fake).transcribe_many(pieces, pack_seconds=5.0))
    assert fake.calls == 2  # 2 s + 0.5 s gap + 2 s fit in 5 s; the third piece needs a second window
    assert got == [(Word("w0.1", 5.0, 7.0, 1.0),), (Word("w0.2", 9.0, 11.0, 1.0),), (Word("w0.3", 40.0, 42.0, 1.0),)]


class SqueezedLastWord:
    """Whisper's habit at a sentence end: the last word squeezed to zero length at the next sentence's start."""

    def transcribe(self, samples: np.ndarray, **options: Any) -> tuple[Any, Any]:
        words = [SimpleNamespace(word=" the", start=0.5, end=2.5, probability=1.0),
                 SimpleNamespace(word=" door.", start=2.5, end=2.5, probability=1.0),
                 SimpleNamespace(word=" Dogs", start=2.5, end=3.0, probability=1.0)]
        return iter([SimpleNamespace(text="", words=words)]), None


def test_a_word_without_length_stays_with_the_word_before_it() -> None:
    pieces = [(np.ones(2 * RATE, np.float32), 10.0), (np.ones(2 * RATE, np.float32), 20.0)]
    first, second = WordTranscriber(model=SqueezedLastWord()).transcribe_many(pieces)
    assert [w.text for w in first] == ["the", "door."] and [w.text for w in second] == ["Dogs"]
    assert first[1].start == first[1].end == 12.0  # clamped to the end of its own segment
    assert second[0].start == 20.0


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


@pytest.mark.slow
@pytest.mark.data
def test_packed_ravdess_utterances_each_get_their_own_sentence() -> None:
    pytest.importorskip("faster_whisper")
    sf = pytest.importorskip("soundfile")
    from affectlens.audio.whisper_encoder import WhisperEncoderUnavailable
    from affectlens.bench.datasets import data_root

    files = sorted((data_root() / "ravdess_speech_16k").glob("Actor_0[1-4]/*.flac"))[::23][:8]
    if len(files) < 8:
        pytest.skip("RAVDESS (16 kHz) not staged")
    sentences = {"01": ["kids", "are", "talking", "by", "the", "door"],
                 "02": ["dogs", "are", "sitting", "by", "the", "door"]}
    pieces = [(sf.read(f, dtype="float32")[0], 10.0 * i) for i, f in enumerate(files)]
    try:
        got = list(WordTranscriber(threads=2).transcribe_many(pieces))
    except WhisperEncoderUnavailable as exc:
        pytest.skip(str(exc))
    said = [[w.text.strip(".,!?").lower() for w in words] for words in got]
    expected = [sentences[f.name.split("-")[4]] for f in files]
    # tiny.en mishears a word now and then ("Don'ts"); the segment a word lands in must not be wrong
    assert sum(s == e for s, e in zip(said, expected, strict=True)) >= 6
    assert all(abs(len(s) - 6) <= 1 for s in said)


class FrameIndexShared:
    """Stands in for ``SharedPassEncoder``: each window's 'states' are the encoder frame numbers (1500, 2)."""

    def __init__(self) -> None:
        self.first: np.ndarray | None = None
        self.windows: list[np.ndarray] = []

    def start_pack(self) -> None:
        self.first = None

    def window(self, mel: np.ndarray) -> np.ndarray:
        self.windows.append(mel)
        states = np.repeat(np.arange(1500, dtype=np.float32)[:, None], 2, axis=1)
        if self.first is None:
            self.first = states
        return states

    def encode(self, features: np.ndarray) -> str:
        self.window(features)
        return "encoded window"

    def first_states(self) -> np.ndarray | None:
        return self.first


class DetectingRegionWhisper(RegionWhisper):
    """RegionWhisper with CTranslate2's ``model.detect_language`` (the shared pass detects from its own states)."""

    def __init__(self) -> None:
        super().__init__()
        self.languages: list[Any] = []
        self.model = SimpleNamespace(detect_language=lambda encoded: [[("<|it|>", 0.97), ("<|en|>", 0.01)]])

    def transcribe(self, samples: np.ndarray, **options: Any) -> tuple[Any, Any]:
        self.languages.append(options["language"])
        return super().transcribe(samples, **options)


def test_transcribe_pooled_gives_each_segment_its_words_and_its_frames_of_the_shared_window() -> None:
    pytest.importorskip("faster_whisper")
    shared, fake = FrameIndexShared(), DetectingRegionWhisper()
    transcriber = WordTranscriber(model=fake, model_name="base", language=None, shared=shared)
    pieces = [(np.full(2 * RATE, amp, np.float32), offset) for amp, offset in ((0.1, 5.0), (0.2, 9.0), (0.3, 40.0))]
    got = list(transcriber.transcribe_pooled(pieces, pack_seconds=5.0))
    assert fake.calls == 2 and len(shared.windows) == 2  # one window per pack, encoded once here
    assert fake.languages == ["it", "it"]  # detected from the shared pass, then given to the decoder
    assert [words for words, _ in got] == [(Word("w0.1", 5.0, 7.0, 1.0, "it"),), (Word("w0.2", 9.0, 11.0, 1.0, "it"),),
                                           (Word("w0.3", 40.0, 42.0, 1.0, "it"),)]
    frames = np.arange(1500, dtype=np.float32)
    # the first pack: segment 1 is frames 0-99 of the window, segment 2 (after 2 s + 0.5 s gap) frames 125-224
    for (_, row), (a, b) in zip(got, [(0, 100), (125, 225), (0, 100)], strict=True):
        assert row[0] == pytest.approx(frames[a:b].mean()) and row[2] == pytest.approx(frames[a:b].std())


def test_attach_only_takes_a_base_transcriber_not_yet_loaded() -> None:
    shared = FrameIndexShared()
    assert WordTranscriber(model_name="base", language=None).attach(shared)
    assert not WordTranscriber().attach(shared)  # tiny.en: the emotion heads read base's states
    assert not WordTranscriber(model=FakeWhisper(), model_name="base", language=None).attach(shared)
    with pytest.raises(RuntimeError, match="shared encoder"):
        list(WordTranscriber(model=FakeWhisper()).transcribe_pooled([(np.ones(RATE, np.float32), 0.0)]))
