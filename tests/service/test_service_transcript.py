"""Audio with its transcript: the media routes take the planner's fused route, as the CLI's ``--transcript``."""

from __future__ import annotations

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
