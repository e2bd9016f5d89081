"""Audio with its transcript: the media routes take the planner's fused route, as the CLI's ``--transcript``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from service_helpers import FakeSpeechRecognizer, make_client, silence, tone, wav_bytes

from affectlens.service.settings import ServiceSettings

SRT = ("1\n00:00:00,200 --> 00:00:01,400\nAna: I am so happy to see you!\n\n"
       "2\n00:00:02,000 --> 00:00:03,200\nBen: Why did you do that? I'm furious.\n")


@pytest.fixture
def client() -> object:
    return make_client(ServiceSettings(), recognizers=[FakeSpeechRecognizer()])


def _audio() -> bytes:
    return wav_bytes(np.concatenate([silence(0.2), tone(1.2, 0.05), silence(0.6), tone(1.2, 0.5), silence(0.5)]))


def test_audio_with_a_transcript_gives_fused_turns(client: object) -> None:
    response = client.post("/v1/analyze/audio", files={"file": ("talk.wav", _audio(), "audio/wav")},  # type: ignore[attr-defined]
                           data={"transcript": SRT})
    assert response.status_code == 200, response.text
    segments = response.json()["segments"]
    assert [s["modality"] for s in segments] == ["fused", "fused"]
    assert [s["speaker"] for s in segments] == ["Ana", "Ben"]
    assert all("disagreement" in s["extras"] for s in segments)


def test_an_empty_transcript_is_a_clear_422(client: object) -> None:
    response = client.post("/v1/analyze/audio", files={"file": ("talk.wav", _audio(), "audio/wav")},  # type: ignore[attr-defined]
                           data={"transcript": "  "})
    assert response.status_code == 422 and "transcript" in response.text


class _LoudWords:
    """Stands in for Whisper: a loud speech segment says "furious shouting", a quiet one nothing."""

    def load(self) -> None:
        pass

    def transcribe_many(self, pieces: object) -> object:
        from affectlens.audio.transcribe import Word

        for samples, offset in pieces:  # type: ignore[attr-defined]
            end = offset + samples.size / 16_000
            yield (Word("furious", offset, end - 0.2, 0.9), Word("shouting", end - 0.2, end, 0.8)) \
                if float(np.max(np.abs(samples))) > 0.3 else ()


@pytest.fixture
def words_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    from affectlens.recognizers.speech_onnx import SpeechOnnxRecognizer
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer
    from affectlens.service.engine import Engine
    from affectlens.testing import EnergyVad, make_tiny_speech_model, make_tiny_text_model

    monkeypatch.setattr(Engine, "words_transcriber", lambda self: _LoudWords())
    monkeypatch.setattr("affectlens.audio.transcribe.multilingual_words_installed", lambda: True)
    speech = SpeechOnnxRecognizer(model_dir=make_tiny_speech_model(tmp_path / "speech"), vad=EnergyVad())
    text = TextOnnxRecognizer(make_tiny_text_model(tmp_path / "text"))
    return make_client(ServiceSettings(), recognizers=[speech, text], words_by_default=True)


def test_audio_without_a_transcript_gets_its_words_by_default(words_client: object) -> None:
    post = words_client.post  # type: ignore[attr-defined]
    response = post("/v1/analyze/audio", files={"file": ("talk.wav", _audio(), "audio/wav")})
    assert response.status_code == 200, response.text
    segments = response.json()["segments"]
    assert [s["modality"] for s in segments] == ["fused", "fused"]
    assert segments[1]["text"] == "furious shouting" and segments[1]["extras"]["words"][0]["word"] == "furious"
    assert "disagreement" in segments[1]["extras"]
    voice = post("/v1/analyze/audio", files={"file": ("talk.wav", _audio(), "audio/wav")}, data={"words": "false"})
    assert voice.status_code == 200 and {s["modality"] for s in voice.json()["segments"]} == {"speech"}


def test_words_by_default_can_be_turned_off_and_words_still_asked_for() -> None:
    settings = ServiceSettings.from_env({"AFFECTLENS_WORDS_BY_DEFAULT": "false"})
    assert settings.words_by_default is False
    with pytest.raises(ValueError, match="not true or false"):
        ServiceSettings.from_env({"AFFECTLENS_WORDS_BY_DEFAULT": "maybe"})
