"""Helpers for the service tests: fake recognizers, synthetic audio, an app factory."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Sequence
from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from affectlens.inputs import AudioClip
from affectlens.protocols import Recognizer
from affectlens.service.app import create_app
from affectlens.service.settings import ServiceSettings
from affectlens.testing import DummyRecognizer
from affectlens.types import VAD, EmotionResult, Modality, Provenance, Segment

EKMAN = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral")


class SlowRecognizer(DummyRecognizer):
    """The keyword recognizer, ``delay`` seconds per call (timeouts, cancellation, load)."""

    name = "dummy.slow.v1"

    def __init__(self, delay: float = 0.2) -> None:
        super().__init__()
        self.delay = delay
        self.calls = 0

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        self.calls += 1
        time.sleep(self.delay)
        return super().analyze(batch)


class FakeSpeechRecognizer:
    """Loud clips are angry, quiet ones sad: enough to see segments flow through the service."""

    name = "speech.fake.v1"
    version = "v1"
    modality = Modality.SPEECH
    label_set = "ekman"

    def load(self) -> None:
        pass

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        out = []
        for clip in batch:
            assert isinstance(clip, AudioClip)
            loud = float(np.sqrt(np.mean(clip.samples**2))) > 0.1
            top = "anger" if loud else "sadness"
            scores = {label: (0.8 if label == top else 0.2 / 6) for label in EKMAN}
            seg = Segment(Modality.SPEECH, "ekman", scores, (top,), VAD(-0.5, 0.6 if loud else -0.4, 0.0), 0.8,
                          Provenance(self.name, self.version), start=clip.offset,
                          end=clip.offset + clip.duration)
            out.append(EmotionResult((seg,), clip.source))
        return out


def tone(seconds: float, amplitude: float = 0.3, freq: float = 220.0, rate: int = 16_000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def silence(seconds: float, rate: int = 16_000) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.float32)


def pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def wav_bytes(samples: np.ndarray, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm16(samples))
    return buffer.getvalue()


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64




def make_client(settings: ServiceSettings, recognizers: Sequence[Recognizer] | None = None, *,
                words_by_default: bool = False) -> TestClient:
    if settings.allowed_hosts is None:  # starlette's test client sends "Host: testserver" (WebSockets always)
        settings = settings.with_overrides(allowed_hosts="testserver")
    if not words_by_default:  # the stand-in speech recognizers read a voice, not Whisper's words
        settings = settings.with_overrides(words_by_default=False)
    app = create_app(settings, recognizers=[DummyRecognizer()] if recognizers is None else recognizers)
    return TestClient(app)
