"""Media uploads: sniffing, content types, size, 501 without recognizers, dispatch, temp files."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from service_helpers import PNG_BYTES, FakeSpeechRecognizer, make_client, silence, tone, wav_bytes

from affectlens import processing
from affectlens.inputs import AudioClip, InputError
from affectlens.service.settings import ServiceSettings
from affectlens.service.uploads import sniff
from affectlens.testing import DummyRecognizer
from affectlens.types import Modality


@pytest.mark.parametrize(
    ("head", "kind", "suffix"),
    [
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio", ".wav"),
        (b"fLaC\x00\x00", "audio", ".flac"),
        (b"ID3\x04\x00", "audio", ".mp3"),
        (b"\xff\xfb\x90\x00", "audio", ".mp3"),
        (b"OggS\x00\x02", "audio", ".ogg"),
        (b"\x89PNG\r\n\x1a\n\x00", "image", ".png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image", ".jpg"),
        (b"GIF89a\x01\x00", "image", ".gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image", ".webp"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00", "video", ".mp4"),
        (b"\x00\x00\x00\x18ftypM4A \x00\x00", "audio", ".m4a"),
        (b"\x1a\x45\xdf\xa3\x01\x00webm", "video", ".webm"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "video", ".avi"),
        (b"id,text\n1,hello\n", "table", ".csv"),
        (b"id\ttext\n1\thello\n", "table", ".tsv"),
        (b'{"text": "hi"}\n', "table", ".jsonl"),
        (b"\xef\xbb\xbftext\nhello\n", "table", ".csv"),
    ],
)
def test_sniff_knows_common_formats(head: bytes, kind: str, suffix: str) -> None:
    found = sniff(head)
    assert found is not None and (found.kind, found.suffix) == (kind, suffix)


@pytest.mark.parametrize("head", [b"\x00\x01\x02\x03binary", b"\xc3\x28 invalid utf8 in the middle" + b"x" * 20, b""])
def test_sniff_rejects_unknown_bytes(head: bytes) -> None:
    assert sniff(head) is None


WAV = wav_bytes(np.concatenate([silence(0.5), tone(1.0), silence(0.5)]))


@pytest.mark.parametrize(
    ("endpoint", "payload", "content_type", "status", "fragment"),
    [
        ("audio", WAV, "audio/wav", 501, "no speech recognizer"),
        ("audio", WAV, "application/octet-stream", 501, "no speech recognizer"),
        ("image", PNG_BYTES, "image/png", 501, "no face recognizer"),
        ("video", b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64, "video/mp4", 501, "no face recognizer"),
        ("audio", PNG_BYTES, "audio/wav", 415, "the upload is PNG image, not audio"),
        ("audio", WAV, "text/html", 415, "content type 'text/html' is not accepted"),
        ("image", WAV, "image/png", 415, "WAV audio, not image"),
        ("image", PNG_BYTES, "audio/wav", 415, "not accepted"),
        ("audio", b"\x00\x01\x02 nothing known", "audio/wav", 415, "not a known audio format"),
        ("audio", b"", "audio/wav", 400, "empty"),
    ],
)
def test_media_uploads_are_checked_then_routed(
    client: Any, upload_dir: Path, endpoint: str, payload: bytes, content_type: str, status: int, fragment: str
) -> None:
    response = client.post(f"/v1/analyze/{endpoint}", files={"file": ("clip.bin", payload, content_type)})
    assert response.status_code == status, response.text
    assert fragment in response.json()["error"]
    assert list(upload_dir.iterdir()) == []  # the temp copy is gone whatever happened


def test_upload_too_large_is_413(settings: ServiceSettings, upload_dir: Path) -> None:
    tight = ServiceSettings(temp_dir=settings.temp_dir, max_upload_bytes=10_000)
    with make_client(tight) as client:
        big = WAV + b"\x00" * 20_000
        over_file = client.post("/v1/analyze/audio", files={"file": ("a.wav", big, "audio/wav")})
        assert over_file.status_code == 413
        # an upload just over the file limit but under the body limit is stopped while copying
        just_over = WAV[:10_001] if len(WAV) > 10_001 else WAV + b"\x00" * (10_001 - len(WAV))
        response = client.post("/v1/analyze/audio", files={"file": ("a.wav", just_over, "audio/wav")})
        assert response.status_code == 413 and "10000 bytes" in response.json()["error"]
    assert list(upload_dir.iterdir()) == []


def test_truncated_multipart_is_400(client: Any) -> None:
    boundary = "----WebKitFormBoundaryAbCdEf"  # mixed case, as browsers make them
    part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
            "Content-Type: audio/wav\r\n\r\n").encode() + WAV
    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    whole = client.post("/v1/analyze/audio", content=part + f"\r\n--{boundary}--\r\n".encode(), headers=headers)
    assert whole.status_code == 501  # complete: checked, then no recognizer
    cut = client.post("/v1/analyze/audio", content=part[:300], headers=headers)  # no closing boundary
    assert cut.status_code == 400 and "truncated upload" in cut.json()["error"]
    missing = client.post("/v1/analyze/audio", data={"labels": "ekman"})
    assert missing.status_code == 422 and "file: Field required" in missing.json()["error"]


def _read_wav(path: Path, record_id: str | None) -> AudioClip:
    try:
        with wave.open(str(path)) as source:
            frames = source.readframes(source.getnframes())
            rate = source.getframerate()
    except (wave.Error, EOFError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    return AudioClip(samples, rate, source=str(path), record_id=record_id)


@pytest.fixture
def wav_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in for the audio reader that arrives with the speech issue."""
    monkeypatch.setitem(processing.FILE_TYPES, ".wav", processing.FileType(Modality.SPEECH, _read_wav))


def test_media_goes_through_the_file_type_dispatch(
    settings: ServiceSettings, upload_dir: Path, wav_reader: None
) -> None:
    with make_client(settings, [DummyRecognizer(), FakeSpeechRecognizer()]) as client:
        response = client.post("/v1/analyze/audio", files={"file": ("../../etc/passwd", WAV, "audio/x-wav")})
        assert response.status_code == 200, response.text
        data = response.json()
        assert data["source"] is None  # the temp path never leaks
        [segment] = data["segments"]
        assert segment["modality"] == "speech" and segment["labels"] == ["anger"]
        assert segment["start"] == 0.0 and segment["end"] == pytest.approx(2.0)
        assert "source" not in segment
        bad = client.post("/v1/analyze/audio", files={"file": ("a.wav", WAV[:30], "audio/wav")})
        assert bad.status_code == 400 and "upload" in bad.json()["error"]
        assert str(upload_dir) not in bad.json()["error"]
    assert list(upload_dir.iterdir()) == []


def test_reader_without_recognizer_is_501(client: Any, wav_reader: None) -> None:
    response = client.post("/v1/analyze/audio", files={"file": ("a.wav", WAV, "audio/wav")})
    assert response.status_code == 501 and "no speech recognizer is installed" in response.json()["error"]
