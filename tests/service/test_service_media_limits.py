"""Media limits on the service: duration and pixel caps from the header (413 pointing at jobs),
and work that stops when its request times out, so the next request is answered."""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from service_helpers import make_client, tone, wav_bytes

from affectlens.service.settings import ServiceSettings
from affectlens.testing import DummyRecognizer
from affectlens.types import VAD, EmotionResult, Modality, Provenance, Segment

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from media_files import huge_png, long_flac


class ChunkedSpeech:
    """Walks an audio file chunk by chunk (``delay`` s each), like the real speech recognizer."""

    name = "speech.chunked.v1"
    version = "v1"
    modality = Modality.SPEECH
    label_set = "ekman"

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.chunks_seen = 0

    def load(self) -> None:
        pass

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        out = []
        for audio in batch:
            seconds = 0.0
            for chunk in audio.chunks(1.0):
                self.chunks_seen += 1
                seconds += chunk.size / 16_000
                time.sleep(self.delay)
            seg = Segment(Modality.SPEECH, "ekman", {"neutral": 1.0}, ("neutral",), VAD(0.0, 0.0, 0.0), 1.0,
                          Provenance(self.name, self.version), start=0.0, end=round(seconds, 3))
            out.append(EmotionResult((seg,), audio.source))
        return out


def test_long_audio_is_refused_from_its_header(settings: ServiceSettings, tmp_path: Path) -> None:
    speech = ChunkedSpeech()
    with make_client(settings.with_overrides(max_sync_audio_seconds=60.0), [DummyRecognizer(), speech]) as client:
        long_file = long_flac(tmp_path / "long.flac", 5400).read_bytes()
        started = time.perf_counter()
        answer = client.post("/v1/analyze/audio", files={"file": ("a.flac", long_file, "audio/flac")})
        assert answer.status_code == 413, answer.text
        assert "5400 s" in answer.json()["error"] and "/v1/jobs" in answer.json()["error"]
        assert time.perf_counter() - started < 10 and speech.chunks_seen == 0  # nothing was decoded
        short = client.post("/v1/analyze/audio", files={"file": ("s.wav", wav_bytes(tone(3.0)), "audio/wav")})
        assert short.status_code == 200, short.text
        assert short.json()["segments"][0]["end"] == pytest.approx(3.0, abs=0.05)


def test_timed_out_media_work_stops_and_the_next_request_answers(settings: ServiceSettings) -> None:
    speech = ChunkedSpeech(delay=0.1)  # 60 s of audio: 6 s of work
    tight = settings.with_overrides(request_timeout_s=1.0)
    with make_client(tight, [DummyRecognizer(), speech]) as client:
        slow = client.post("/v1/analyze/audio", files={"file": ("l.wav", wav_bytes(tone(60.0)), "audio/wav")})
        assert slow.status_code == 504 and "stopped" in slow.json()["error"]
        started = time.perf_counter()
        short = client.post("/v1/analyze/audio", files={"file": ("s.wav", wav_bytes(tone(2.0)), "audio/wav")})
        assert short.status_code == 200, short.text
        assert time.perf_counter() - started < 1.0  # not queued behind the abandoned 60 s
        assert speech.chunks_seen < 25  # the abandoned work stopped at a chunk boundary (60 + 2 otherwise)
        assert client.app.state.affectlens.sync_media.cancelled == 1  # type: ignore[attr-defined]


def test_image_bomb_is_413_on_sync_and_job_routes(settings: ServiceSettings, tmp_path: Path) -> None:
    pytest.importorskip("PIL")
    bomb = huge_png(tmp_path / "bomb.png").read_bytes()
    with warnings.catch_warnings(), make_client(settings) as client:
        warnings.simplefilter("ignore")
        for route, data in (("/v1/analyze/image", None), ("/v1/jobs", {"kind": "image"})):
            answer = client.post(route, files={"file": ("b.png", bomb, "image/png")}, data=data)
            assert answer.status_code == 413, answer.text  # before any model is chosen (none is installed)
            assert "13000 x 13000" in answer.json()["error"] and "megapixels" in answer.json()["error"]


@pytest.mark.slow
def test_serve_refuses_long_audio_and_answers_short_audio_while_a_long_job_runs(tmp_path: Path) -> None:
    """Through the real ``affectlens serve`` (shipped speech model): a 90-minute file is refused
    synchronously at once (413 pointing at jobs); as a job it runs while 3-s WAVs still get 200;
    cancelling the job stops it mid-file."""
    pytest.importorskip("soundfile")
    import httpx
    from real_server import serving

    long_file = long_flac(tmp_path / "long.flac", 5400).read_bytes()
    short_file = wav_bytes(tone(3.0))
    with serving(tmp_path, "--log-level", "warning", model=None, wait_for="/healthz") as served:
        base = served.base
        started = time.perf_counter()
        refused = httpx.post(base + "/v1/analyze/audio", files={"file": ("l.flac", long_file, "audio/flac")},
                             timeout=60)
        assert refused.status_code == 413, refused.text
        assert "/v1/jobs" in refused.json()["error"] and time.perf_counter() - started < 15
        job = httpx.post(base + "/v1/jobs", files={"file": ("l.flac", long_file, "audio/flac")},
                         data={"kind": "audio"}, timeout=60)
        assert job.status_code == 202, job.text
        job_url = base + job.headers["location"]
        deadline = time.monotonic() + 60
        while httpx.get(job_url, timeout=10).json()["status"] == "queued" and time.monotonic() < deadline:
            time.sleep(0.2)
        for _ in range(3):
            short = httpx.post(base + "/v1/analyze/audio", files={"file": ("s.wav", short_file, "audio/wav")},
                               timeout=60)
            assert short.status_code == 200, short.text
        assert httpx.get(job_url, timeout=10).json()["status"] == "running"  # they overlapped the job
        cancelled = httpx.delete(job_url, timeout=10)
        assert cancelled.status_code == 200
        deadline = time.monotonic() + 20
        while httpx.get(job_url, timeout=10).json()["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert httpx.get(job_url, timeout=10).json()["status"] == "cancelled"  # stopped mid-file


def test_work_stops_when_the_client_disconnects(settings: ServiceSettings, tmp_path: Path) -> None:
    import asyncio

    from affectlens.media_limits import checkpoint
    from affectlens.service.engine import InteractiveGate, ServiceError
    from affectlens.service.limits import SyncMediaRunner
    from affectlens.service.uploads import SavedUpload, Sniffed

    class GoneAfter:
        def __init__(self, seconds: float) -> None:
            self.at = time.monotonic() + seconds

        async def is_disconnected(self) -> bool:
            return time.monotonic() > self.at

    steps: list[int] = []

    def work() -> None:
        for step in range(200):  # 20 s unless stopped
            checkpoint(float(step))
            steps.append(step)
            time.sleep(0.1)

    path = tmp_path / "a.wav"
    path.write_bytes(wav_bytes(tone(1.0)))
    runner = SyncMediaRunner(settings, InteractiveGate())
    saved = SavedUpload(path, Sniffed("audio", ".wav", "WAV audio"), path.stat().st_size)
    with pytest.raises(ServiceError) as caught:
        asyncio.run(runner.run(GoneAfter(0.5), saved, work))
    assert caught.value.status == 499
    time.sleep(0.4)
    assert 2 <= len(steps) < 12  # stopped at the next checkpoint after the client left
    runner.shutdown()
