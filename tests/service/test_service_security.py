"""Issue 21, items 1, 5, 9 through the real ``affectlens serve`` over a socket, plus fast in-process checks.

1. the WebSocket stream works as installed (uvicorn has a WebSocket implementation);
5. foreign ``Host`` -> 421 (DNS rebinding); foreign ``Origin`` on POST/DELETE and on the
   stream -> 403 (cross-site requests); same origin and no Origin stay allowed;
9. the stream's API key never reaches the server's log, and can be sent without a URL.
"""

from __future__ import annotations

import json
import logging
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from real_server import Served, raw_http, serving
from service_helpers import silence, wav_bytes
from starlette.testclient import WebSocketDenialResponse

from affectlens.service.app import create_app
from affectlens.service.security import (
    HostPolicy,
    RedactSecrets,
    key_subprotocol,
    origin_allowed,
    redact,
)
from affectlens.service.settings import ServiceSettings
from affectlens.testing import DummyRecognizer

ws_client = pytest.importorskip("websockets.sync.client", reason="websockets is not installed (the service extra)")
from websockets.exceptions import InvalidStatus  # noqa: E402

SECRET = "s3cret-Key_42"
ATTACKER = "http://attacker.example"


@pytest.fixture(scope="module")
def keyless(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("keyless")) as served:
        yield served


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("keyed"), env={"AFFECTLENS_API_KEY": SECRET}) as served:
        yield served


def _request(method: str, port: int, path: str, *, host: str | None = None, origin: str | None = None,
             body: bytes = b"", content_type: str = "application/json") -> int:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}", "Connection: close"]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    if body or method in ("POST", "PUT"):
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    status, _ = raw_http(port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return status


def _multipart_csv() -> tuple[bytes, str]:
    boundary = "affectlensboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\ntext\nI am so happy\n\r\n--{boundary}--\r\n").encode()
    return body, f"multipart/form-data; boundary={boundary}"


def voice_like(seconds: float, f0: float = 130.0, seed: int = 0, syllable_s: float = 0.15) -> np.ndarray:
    """A glottal pulse train through vowel formants, one vowel per syllable: Silero's VAD (the shipped
    speech model's) takes it for speech, where a pure tone is "no speech found"."""
    rate = 16_000
    n = int(seconds * rate)
    t = np.arange(n) / rate
    phase = np.cumsum(f0 * (1 + 0.12 * np.sin(2 * np.pi * 1.1 * t + seed)) / rate)
    pulses = (np.diff(np.floor(phase), prepend=0) > 0).astype(np.float64)
    freqs = np.fft.rfftfreq(n, 1 / rate)
    vowels = ((700, 1220, 2600), (300, 2300, 3000), (500, 900, 2400), (400, 1900, 2550))
    out = np.zeros(n)
    step = int(syllable_s * rate)
    for i, start in enumerate(range(0, n, step)):
        piece = np.zeros(n)
        piece[start : start + step] = pulses[start : start + step]
        gain = sum(1 / (1 + ((freqs - formant) / 80) ** 2) for formant in vowels[(i + seed) % 4])
        out += np.fft.irfft(np.fft.rfft(piece) * gain, n)
    envelope = (0.55 + 0.45 * np.sin(np.pi * t / syllable_s) ** 2) * np.minimum(1, np.minimum(t, t[-1] - t) / 0.05)
    signal = out * envelope + np.random.default_rng(seed).normal(0, 0.002, n)
    return (0.3 * signal / np.max(np.abs(signal))).astype(np.float32)


def _stream_wav(ws: Any, path: Path, chunk_frames: int = 3200) -> list[dict[str, Any]]:
    """Send a WAV file's PCM in chunks, end the stream, and collect every message up to ``done``."""
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16_000, 1, 2)
        while frames := wav.readframes(chunk_frames):
            ws.send(frames)
    ws.send(json.dumps({"type": "end"}))
    messages = []
    while True:
        message = json.loads(ws.recv(timeout=60))
        messages.append(message)
        if message["type"] in ("done", "error"):
            return messages


# -- item 1: the stream under the real server --------------------------------------------------------------


def test_stream_a_wav_file_through_real_serve(keyless: Served, tmp_path: Path) -> None:
    wav = tmp_path / "two-utterances.wav"
    wav.write_bytes(wav_bytes(np.concatenate([silence(0.5), voice_like(1.5), silence(0.8),
                                              voice_like(1.2, f0=190, seed=1), silence(0.5)])))
    with ws_client.connect(keyless.ws_base + "/v1/stream/audio?labels=ekman", open_timeout=30) as ws:
        ready = json.loads(ws.recv(timeout=60))
        assert ready["type"] == "ready" and ready["sample_rate"] == 16_000
        messages = _stream_wav(ws, wav)
    segments = [m for m in messages if m["type"] == "segment"]
    assert messages[-1] == {"type": "done", "segments": 2, "seconds": pytest.approx(4.5, abs=0.01)}
    assert [s["index"] for s in segments] == [0, 1]
    assert segments[0]["start"] == pytest.approx(0.41, abs=0.1) and segments[1]["start"] > segments[0]["end"]
    for segment in segments:  # emotions from the installed speech model (the speech extra), else the warning
        result = segment["result"]
        if ready["recognizer"] is None:
            assert "no speech recognizer installed" in result["warnings"][0]
        else:
            [emotion] = result["segments"]
            assert emotion["label_set"] == "ekman" and emotion["labels"], result
    assert "No supported WebSocket library" not in keyless.log()


# -- item 5: Host and Origin ---------------------------------------------------------------------------------


def test_foreign_host_is_refused_by_real_serve(keyless: Served) -> None:
    port = keyless.port
    assert _request("GET", port, "/healthz", host="attacker.example") == 421
    assert _request("GET", port, "/healthz", host=f"attacker.example:{port}") == 421
    assert _request("POST", port, "/v1/analyze/text", host="attacker.example", body=b'{"text": "hi"}') == 421
    for own in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "localhost"):
        assert _request("GET", port, "/healthz", host=own) == 200, own
    handshake = ("GET /v1/stream/audio HTTP/1.1\r\nHost: attacker.example\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n")
    status, response = raw_http(port, handshake.encode())
    assert status == 421 and b"--allowed-hosts" in response


def test_foreign_origin_is_refused_on_state_changes(keyless: Served) -> None:
    port = keyless.port
    body, content_type = _multipart_csv()
    # the attack from the issue: a cross-site page posts a job form to the loopback service
    assert _request("POST", port, "/v1/jobs", origin=ATTACKER, body=body, content_type=content_type) == 403
    assert _request("POST", port, "/v1/analyze/text", origin=ATTACKER, body=b'{"text": "hi"}') == 403
    assert _request("POST", port, "/v1/analyze/text", origin="null", body=b'{"text": "hi"}') == 403
    assert _request("DELETE", port, "/v1/jobs/abc", origin=ATTACKER) == 403
    # the page itself (same origin) and clients without Origin (curl, scripts) keep working
    assert _request("POST", port, "/v1/analyze/text", origin=f"http://127.0.0.1:{port}", body=b'{"text": "hi"}') == 200
    assert _request("POST", port, "/v1/analyze/text", body=b'{"text": "hi"}') == 200
    assert _request("POST", port, "/v1/jobs", body=body, content_type=content_type) == 202
    assert _request("GET", port, "/v1/models", origin=ATTACKER) == 200  # reads: no CORS headers, the browser hides them


def test_foreign_origin_is_refused_on_the_stream(keyless: Served) -> None:
    with pytest.raises(InvalidStatus) as refused:
        ws_client.connect(keyless.ws_base + "/v1/stream/audio", origin=ATTACKER)  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403
    assert b"cross-origin" in refused.value.response.body
    own = f"http://127.0.0.1:{keyless.port}"
    with ws_client.connect(keyless.ws_base + "/v1/stream/audio", origin=own) as ws:  # type: ignore[arg-type]
        assert json.loads(ws.recv(timeout=60))["type"] == "ready"


# -- item 9: the stream's key ---------------------------------------------------------------------------------


def test_query_key_is_redacted_from_the_real_server_log(keyed: Served) -> None:
    with ws_client.connect(f"{keyed.ws_base}/v1/stream/audio?api_key={SECRET}&labels=ekman") as ws:
        assert json.loads(ws.recv(timeout=60))["type"] == "ready"
        ws.send(json.dumps({"type": "end"}))
        assert json.loads(ws.recv(timeout=60))["type"] == "done"
    log = keyed.log()
    assert "/v1/stream/audio?api_key=[redacted]" in log  # the handshake is logged, without its key
    assert SECRET not in log


def test_stream_key_in_a_header_or_a_subprotocol(keyed: Served) -> None:
    url = keyed.ws_base + "/v1/stream/audio"
    with ws_client.connect(url, additional_headers={"Authorization": f"Bearer {SECRET}"}) as ws:
        assert json.loads(ws.recv(timeout=60))["type"] == "ready"
    # a browser: new WebSocket(url, ["affectlens.v1", "affectlens.key." + base64url(key)])
    with ws_client.connect(url, subprotocols=["affectlens.v1", key_subprotocol(SECRET)]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "affectlens.v1"  # the key is never echoed back
        assert json.loads(ws.recv(timeout=60))["type"] == "ready"
    for wrong in ({}, {"subprotocols": ["affectlens.v1", key_subprotocol("nope")]},
                  {"additional_headers": {"Authorization": "Bearer nope"}}):
        with pytest.raises(InvalidStatus) as refused:
            ws_client.connect(url, **wrong)
        assert refused.value.response.status_code == 403
    assert SECRET not in keyed.log()


# -- fast, in-process ------------------------------------------------------------------------------------------------


def _client(**settings: Any) -> TestClient:
    app = create_app(ServiceSettings(**settings), recognizers=[DummyRecognizer()])
    return TestClient(app, base_url="http://127.0.0.1:8000")


def test_in_process_host_and_origin_checks() -> None:
    with _client() as client:
        assert client.get("/healthz").status_code == 200
        refused = client.get("/healthz", headers={"Host": "attacker.example"})
        assert refused.status_code == 421 and "--allowed-hosts" in refused.json()["error"]
        assert refused.json()["request_id"] == refused.headers["x-request-id"]
        foreign = client.post("/v1/analyze/text", json={"text": "hi"}, headers={"Origin": ATTACKER})
        assert foreign.status_code == 403 and "cross-origin" in foreign.json()["error"]
        same = client.post("/v1/analyze/text", json={"text": "hi"}, headers={"Origin": "http://127.0.0.1:8000"})
        assert same.status_code == 200
        with pytest.raises(WebSocketDenialResponse) as denied, \
                client.websocket_connect("ws://127.0.0.1:8000/v1/stream/audio", headers={"Origin": ATTACKER}):
            pass
        assert denied.value.status_code == 403
    with _client(allowed_hosts="api.example", allowed_origins="http://app.example:3000") as client:
        assert client.get("/healthz", headers={"Host": "api.example"}).status_code == 200
        assert client.get("/healthz").status_code == 421  # the configured list replaces the default
        listed = client.post("/v1/analyze/text", json={"text": "hi"},
                             headers={"Host": "api.example", "Origin": "http://app.example:3000"})
        assert listed.status_code == 200


@pytest.mark.parametrize(("bound", "host", "allowed"), [
    ("127.0.0.1", "127.0.0.1:8000", True), ("127.0.0.1", "localhost", True), ("127.0.0.1", "[::1]:8000", True),
    ("127.0.0.1", "localhost.:8000", True), ("127.0.0.1", "LOCALHOST", True),
    ("127.0.0.1", "attacker.example", False), ("127.0.0.1", "192.168.1.5", False),
    ("127.0.0.1", "127.0.0.1.attacker.example", False), ("127.0.0.1", "", False),
    ("0.0.0.0", "192.168.1.5:8000", True), ("0.0.0.0", "[fe80::1]:8000", True),
    ("0.0.0.0", "attacker.example", False), ("192.168.1.5", "192.168.1.5", True), ("192.168.1.5", "10.0.0.1", False),
])
def test_default_host_policy(bound: str, host: str, allowed: bool) -> None:
    assert HostPolicy.from_settings(ServiceSettings(host=bound)).allows(host) is allowed


def test_configured_host_policy() -> None:
    assert HostPolicy.from_settings(ServiceSettings(allowed_hosts="*")).allows("anything.example")
    listed = HostPolicy.from_settings(ServiceSettings(allowed_hosts="emotions.lan, 10.0.0.7"))
    assert listed.allows("emotions.lan:8000") and listed.allows("10.0.0.7") and not listed.allows("localhost")


@pytest.mark.parametrize(("origin", "host", "allowed"), [
    ("http://127.0.0.1:8000", "127.0.0.1:8000", True), ("https://svc.example", "svc.example:443", True),
    ("http://svc.example", "svc.example", True), ("http://127.0.0.1:8001", "127.0.0.1:8000", False),
    ("http://localhost:8000", "127.0.0.1:8000", False), ("null", "127.0.0.1:8000", False),
    ("ftp://127.0.0.1:8000", "127.0.0.1:8000", False), ("http://127.0.0.1:8000", None, False),
])
def test_same_origin(origin: str, host: str | None, allowed: bool) -> None:
    assert origin_allowed(origin, host, ()) is allowed


def test_redaction() -> None:
    line = '127.0.0.1:5000 - "WebSocket /v1/stream/audio?labels=ekman&api_key=abc%20def&x=1" [accepted]'
    assert redact(line) == line.replace("api_key=abc%20def", "api_key=[redacted]")
    assert "abc" not in redact(f"Sec-WebSocket-Protocol: affectlens.v1, {key_subprotocol('abc')}")
    assert redact("Authorization: Bearer abc") == "Authorization: Bearer [redacted]"
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" [accepted]',
                               ("127.0.0.1:5000", "/v1/stream/audio?api_key=abc"), None)
    assert RedactSecrets().filter(record) and "abc" not in record.getMessage()


def test_serve_passes_host_and_origin_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from affectlens.cli import run
    from affectlens.service import app as service_app

    seen: dict[str, ServiceSettings] = {}
    monkeypatch.setattr(service_app, "run_server", lambda settings, **_: seen.setdefault("settings", settings))
    monkeypatch.setenv("AFFECTLENS_ALLOWED_ORIGINS", "http://from-env.example")
    assert run(["serve", "--allowed-hosts", "emotions.lan,10.0.0.7"]) == 0
    assert seen["settings"].allowed_hosts == "emotions.lan,10.0.0.7"
    assert seen["settings"].allowed_origins == "http://from-env.example"


def test_query_key_is_the_streams_only() -> None:
    """docs/service.md: HTTP routes take the key from the header only; ``?api_key=`` is the stream's."""
    with _client(api_key=SECRET) as client:
        assert client.get(f"/v1/models?api_key={SECRET}").status_code == 401
        assert client.get("/v1/models", headers={"Authorization": f"Bearer {SECRET}"}).status_code == 200
        with client.websocket_connect(f"ws://127.0.0.1:8000/v1/stream/audio?api_key={SECRET}") as ws:
            assert ws.receive_json()["type"] == "ready"
