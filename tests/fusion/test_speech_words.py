from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("soundfile")
import soundfile as sf

from affectlens.audio.transcribe import Word
from affectlens.fusion.speech_words import analyze_speech_with_words
from affectlens.recognizers.speech_onnx import SpeechOnnxRecognizer
from affectlens.recognizers.text_onnx import TextOnnxRecognizer
from affectlens.testing import EnergyVad, make_tiny_speech_model, make_tiny_text_model

RATE = 16_000


def _voice(f0: float, seconds: float, amp: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    harmonics = np.stack([np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8)])
    return (amp * harmonics.sum(axis=0)).astype(np.float32)


class LoudnessTranscriber:
    """Stands in for Whisper: a loud segment says "furious shouting", a quiet one nothing."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, int]] = []

    def load(self) -> None:
        pass

    def transcribe(self, samples: np.ndarray, offset: float = 0.0) -> tuple[Word, ...]:
        self.seen.append((offset, samples.size))
        if float(np.max(np.abs(samples))) < 0.3:
            return ()
        mid = offset + samples.size / RATE / 2
        return (Word("furious", offset, mid, 0.9), Word("shouting", mid, offset + samples.size / RATE, 0.8))

    def transcribe_many(self, pieces: Any) -> Any:
        return (self.transcribe(samples, offset) for samples, offset in pieces)

    @classmethod
    def default(cls) -> LoudnessTranscriber:  # stands in for WordTranscriber.default()
        return cls()


class ItalianTranscriber(LoudnessTranscriber):
    """The loud segment in Italian, as multilingual Whisper detects it."""

    def transcribe(self, samples: np.ndarray, offset: float = 0.0) -> tuple[Word, ...]:
        from dataclasses import replace

        return tuple(replace(word, language="it") for word in super().transcribe(samples, offset))


@pytest.fixture
def talk(tmp_path: Path) -> Path:
    audio = np.concatenate([np.zeros(RATE // 2, np.float32), _voice(120, 1.5, 0.1), np.zeros(RATE, np.float32),
                            _voice(250, 2.0, 0.5), np.zeros(RATE // 2, np.float32)])
    path = tmp_path / "talk.wav"
    sf.write(path, audio, RATE)
    return path


@pytest.fixture
def models(tmp_path: Path) -> dict[str, Any]:
    return {"speech": SpeechOnnxRecognizer(model_dir=make_tiny_speech_model(tmp_path / "speech"), vad=EnergyVad()),
            "text": TextOnnxRecognizer(make_tiny_text_model(tmp_path / "text"))}


def test_each_speech_segment_gets_its_words_voice_text_and_disagreement(talk: Path, models: dict[str, Any]) -> None:
    transcriber = LoudnessTranscriber()
    result = analyze_speech_with_words(talk, transcriber=transcriber, **models)
    assert len(result.segments) == 2
    quiet, loud = result.segments
    # the transcriber got each VAD segment's own samples, at its own time
    assert [round(offset, 1) for offset, _ in transcriber.seen] == [round(quiet.start, 1), round(loud.start, 1)]
    assert loud.start > 2.5
    assert [w["word"] for w in loud.extras["words"]] == ["furious", "shouting"]
    assert loud.extras["words"][0]["start"] == loud.start
    assert loud.text == "furious shouting"
    assert set(loud.extras["modalities"]) == {"speech", "text"}
    assert 0.0 <= loud.extras["disagreement"] <= 1.0
    assert "voice:" in loud.extras["rationale"]
    # no words: the voice alone, and the result says the text is missing
    assert quiet.extras["words"] == [] and quiet.text is None
    assert set(quiet.extras["modalities"]) == {"speech"} and quiet.extras["missing"] == ["text"]
    assert quiet.extras["disagreement"] is None
    assert all(s.source == str(talk) for s in result.segments)


def test_a_failing_text_model_keeps_the_voice_and_says_why(talk: Path, models: dict[str, Any]) -> None:
    class Broken:
        def load(self) -> None:
            raise RuntimeError("text model files missing")

    result = analyze_speech_with_words(talk, transcriber=LoudnessTranscriber(), speech=models["speech"],
                                       text=Broken())
    assert len(result.segments) == 2
    assert all(set(s.extras["modalities"]) == {"speech"} for s in result.segments)
    assert any("text model files missing" in w for w in result.warnings)


def test_silence_gives_an_empty_result_with_a_note(tmp_path: Path, models: dict[str, Any]) -> None:
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(2 * RATE, np.float32), RATE)
    transcriber = LoudnessTranscriber()
    result = analyze_speech_with_words(path, transcriber=transcriber, **models)
    assert result.segments == ()
    assert any("no speech" in w for w in result.warnings)
    assert transcriber.seen == []  # non-speech is never decoded


def test_cli_words_option_prints_the_fused_segments(talk: Path, models: dict[str, Any],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    import affectlens.audio.transcribe as transcribe_module
    import affectlens.fusion.speech_words as speech_words
    from affectlens.cli import app
    from affectlens.types import Modality

    monkeypatch.setattr(transcribe_module, "WordTranscriber", LoudnessTranscriber)
    monkeypatch.setattr(speech_words, "_default",
                        lambda m: models["speech"] if m is Modality.SPEECH else models["text"])
    outcome = CliRunner().invoke(app, ["analyze", str(talk), "--words", "--format", "jsonl"])
    assert outcome.exit_code == 0, outcome.output
    rows = [json.loads(line) for line in outcome.stdout.splitlines() if line.startswith("{")]
    segments = [s for row in rows for s in row.get("segments", [row])]
    assert any(s.get("text") == "furious shouting" for s in segments)


def test_cli_gives_a_recording_its_words_by_default_and_no_words_keeps_the_voice(
        talk: Path, models: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    import affectlens.audio.transcribe as transcribe_module
    import affectlens.fusion.speech_words as speech_words
    import affectlens.processing as processing
    from affectlens.cli import app
    from affectlens.types import Modality

    monkeypatch.setattr(transcribe_module, "WordTranscriber", LoudnessTranscriber)
    monkeypatch.setattr(transcribe_module, "multilingual_words_installed", lambda: True)
    monkeypatch.setattr(speech_words, "_default",
                        lambda m: models["speech"] if m is Modality.SPEECH else models["text"])
    monkeypatch.setattr(processing.RecognizerPool, "get", lambda self, m: models["speech"])

    def segments(*options: str) -> list[dict[str, Any]]:
        outcome = CliRunner().invoke(app, ["analyze", str(talk), "--format", "json", *options])
        assert outcome.exit_code == 0, outcome.output
        [result] = json.loads(outcome.stdout)["results"]
        return list(result["segments"])

    fused = segments()
    assert [s["modality"] for s in fused] == ["fused", "fused"] and fused[1]["text"] == "furious shouting"
    voice = segments("--no-words")
    assert [s["modality"] for s in voice] == ["speech", "speech"] and "words" not in voice[0].get("extras", {})


def test_words_by_default_fall_back_to_the_voice_when_whisper_cannot_load(talk: Path,
                                                                         models: dict[str, Any]) -> None:
    class Unloadable(LoudnessTranscriber):
        def load(self) -> None:
            raise OSError("read-only cache")

    result = analyze_speech_with_words(talk, transcriber=Unloadable(), required=False, **models)
    assert [s.modality.value for s in result.segments] == ["speech", "speech"]
    assert any("could not load" in w and "read-only cache" in w for w in result.warnings)
    with pytest.raises(OSError, match="read-only cache"):
        analyze_speech_with_words(talk, transcriber=Unloadable(), **models)  # asked for: the error stands


def test_library_analyze_with_words_returns_the_fused_segments(talk: Path, models: dict[str, Any],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import affectlens
    import affectlens.audio.transcribe as transcribe_module
    import affectlens.fusion.speech_words as speech_words
    from affectlens.types import Modality

    monkeypatch.setattr(transcribe_module, "WordTranscriber", LoudnessTranscriber)
    monkeypatch.setattr(speech_words, "_default",
                        lambda m: models["speech"] if m is Modality.SPEECH else models["text"])
    result = affectlens.analyze(talk, words=True, labels="ekman")
    assert [s.modality for s in result.segments] == [Modality.FUSED, Modality.FUSED]
    assert result.segments[1].extras["words"][1]["word"] == "shouting"
    from affectlens.options import UnsupportedOption

    with pytest.raises(UnsupportedOption, match="--words needs a file"):
        affectlens.analyze(["a", "b"], words=True)  # type: ignore[call-overload]


def test_cli_words_on_a_missing_or_non_audio_file_is_a_clear_error(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from affectlens.cli import app

    missing = CliRunner().invoke(app, ["analyze", str(tmp_path / "nope.wav"), "--words"])
    assert missing.exit_code != 0 and "not found" in missing.output and "Traceback" not in missing.output
    notes = tmp_path / "notes.wav"
    notes.write_text("not audio at all")
    bad = CliRunner().invoke(app, ["analyze", str(notes), "--words"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output


@pytest.mark.slow
@pytest.mark.data
def test_real_models_give_each_ravdess_utterance_its_words_voice_and_text(tmp_path: Path) -> None:
    pytest.importorskip("faster_whisper")
    from affectlens.audio.whisper_encoder import WhisperEncoderUnavailable
    from affectlens.bench.datasets import data_root

    files = sorted((data_root() / "ravdess_speech_16k").glob("Actor_0[5-8]/*.flac"))[::31][:5]
    if len(files) < 5:
        pytest.skip("RAVDESS (16 kHz) not staged")
    gap = np.zeros(RATE, np.float32)
    sf.write(tmp_path / "talk.wav", np.concatenate([p for f in files for p in (sf.read(f, dtype="float32")[0], gap)]),
             RATE)
    try:
        result = analyze_speech_with_words(tmp_path / "talk.wav")
    except WhisperEncoderUnavailable as exc:
        pytest.skip(str(exc))
    assert len(result.segments) == len(files)
    for segment in result.segments:
        assert set(segment.extras["modalities"]) == {"speech", "text"}
        assert segment.text and segment.text.lower().rstrip(".!?").endswith("by the door")
        assert all(segment.start <= w["start"] <= w["end"] <= segment.end for w in segment.extras["words"])
        assert 0.0 <= segment.extras["disagreement"] <= 1.0


def test_words_in_another_language_stay_words_but_are_not_read_as_english(talk: Path, models: dict[str, Any]) -> None:
    result = analyze_speech_with_words(talk, transcriber=ItalianTranscriber(), **models)
    quiet, loud = result.segments
    assert loud.text == "furious shouting" and [w["language"] for w in loud.extras["words"]] == ["it", "it"]
    assert loud.extras["language"] == "it"
    assert set(loud.extras["modalities"]) == {"speech"} and loud.extras["missing"] == ["text"]
    assert any("words in it kept but not read" in w for w in result.warnings)
    assert "language" not in quiet.extras


class SharedPassTranscriber(LoudnessTranscriber):
    """A transcriber attached to the speech model's shared pass: words and each segment's row together."""

    def __init__(self, encoder: Any) -> None:
        super().__init__()
        self.encoder = encoder
        self.attached: Any = None

    def attach(self, shared: Any) -> bool:
        self.attached = shared
        return True

    def transcribe_pooled(self, pieces: Any) -> Any:
        for samples, offset in pieces:
            yield self.transcribe(samples, offset), self.encoder.pooled(samples)


def test_a_model_with_window_heads_gets_words_and_voice_from_one_pass(talk: Path, tmp_path: Path,
                                                                       models: dict[str, Any]) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("onnx")
    from affectlens.recognizers.speech_whisper import SpeechWhisperRecognizer
    from recognizers.test_speech_whisper import LoudnessEncoder, tiny_heads_dir

    speech = SpeechWhisperRecognizer(model_dir=tiny_heads_dir(tmp_path / "heads", window_heads=True), vad=EnergyVad(),
                                     encoder=LoudnessEncoder())
    speech.window_encoder = lambda: "the shared pass"  # type: ignore[method-assign]
    transcriber = SharedPassTranscriber(LoudnessEncoder())
    result = analyze_speech_with_words(talk, speech=speech, text=models["text"], transcriber=transcriber)
    assert transcriber.attached == "the shared pass"
    assert [offset for offset, _ in transcriber.seen] == [s.start for s in result.segments]
    loud = result.segments[1]
    assert [w["word"] for w in loud.extras["words"]] == ["furious", "shouting"]
    voice = loud.extras["modalities"]["speech"]
    assert voice["extras"]["encoder_pass"] == "shared with words"
