"""Audio stream: energy segmentation on synthetic signals, and the WebSocket protocol."""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import pytest
from service_helpers import FakeSpeechRecognizer, make_client, pcm16, silence, tone

from affectlens.service.settings import ServiceSettings
from affectlens.service.stream import EnergySegmenter
from affectlens.testing import DummyRecognizer


def segments_of(signal: np.ndarray, chunk: int = 1234, **params: Any) -> list[tuple[float, float]]:
    segmenter = EnergySegmenter(**params)
    found = []
    data = pcm16(signal)
    for offset in range(0, len(data), chunk):  # odd chunk sizes: samples split across messages
        found += segmenter.push_pcm16(data[offset : offset + chunk])
    found += segmenter.flush()
    return [(s.start, s.end) for s in found]


def test_two_utterances_with_times() -> None:
    signal = np.concatenate([silence(1.0), tone(1.0), silence(1.0), tone(0.5, amplitude=0.05), silence(0.6)])
    found = segments_of(signal)
    assert len(found) == 2
    (s1, e1), (s2, e2) = found
    assert s1 == pytest.approx(0.91, abs=0.05) and e1 == pytest.approx(2.09, abs=0.05)
    assert s2 == pytest.approx(2.91, abs=0.05) and e2 == pytest.approx(3.59, abs=0.05)


def test_silence_and_clicks_give_nothing() -> None:
    assert segments_of(silence(2.0)) == []
    noise = np.random.default_rng(0).normal(0, 0.001, 32_000).astype(np.float32)  # -60 dBFS hiss
    assert segments_of(noise) == []
    click = np.concatenate([silence(0.5), tone(0.03), silence(0.5)])  # shorter than min_speech_ms
    assert segments_of(click) == []


def test_long_speech_is_cut_and_stream_end_flushes() -> None:
    found = segments_of(tone(5.0), max_segment_s=2.0)
    assert len(found) >= 3
    assert all(end - start <= 2.0 + 0.03 for start, end in found)  # whole 30 ms frames
    assert found[-1][1] == pytest.approx(5.0, abs=0.05)  # flushed at the end, no silence needed
    assert all(a[1] <= b[0] + 1e-6 for a, b in itertools.pairwise(found))


def test_segment_samples_match_times() -> None:
    segmenter = EnergySegmenter()
    out = segmenter.push(np.concatenate([silence(0.6), tone(0.8), silence(0.6)]))
    [segment] = out
    assert len(segment.samples) == pytest.approx((segment.end - segment.start) * 16_000, abs=1)


def _stream(ws: Any, signal: np.ndarray, chunk: int = 3201) -> list[dict[str, Any]]:
    data = pcm16(signal)
    for offset in range(0, len(data), chunk):
        ws.send_bytes(data[offset : offset + chunk])
    ws.send_text(json.dumps({"type": "end"}))
    messages = []
    while True:
        message = ws.receive_json()
        messages.append(message)
        if message["type"] == "done":
            return messages


SPEECH = np.concatenate([silence(0.5), tone(0.8), silence(0.8), tone(0.6), silence(0.5)])


def test_stream_without_speech_recognizer_reports_segments(client: Any) -> None:
    with client.websocket_connect("/v1/stream/audio") as ws:
        ready = ws.receive_json()
        assert ready["type"] == "ready" and ready["recognizer"] is None
        assert "no speech recognizer installed" in ready["warning"]
        messages = _stream(ws, SPEECH)
    segments = [m for m in messages if m["type"] == "segment"]
    assert [m["index"] for m in segments] == [0, 1]
    assert segments[0]["start"] < segments[0]["end"] <= segments[1]["start"]
    assert segments[0]["result"]["segments"] == []
    assert "no speech recognizer installed" in segments[0]["result"]["warnings"][0]
    assert messages[-1] == {"type": "done", "segments": 2, "seconds": pytest.approx(3.2, abs=0.01)}


def test_stream_with_a_speech_recognizer(settings: ServiceSettings) -> None:
    with (make_client(settings, [DummyRecognizer(), FakeSpeechRecognizer()]) as client,
          client.websocket_connect("/v1/stream/audio?labels=sentiment") as ws):
        assert ws.receive_json()["recognizer"] == "speech.fake.v1"
        messages = _stream(ws, SPEECH)
    segments = [m for m in messages if m["type"] == "segment"]
    assert len(segments) == 2
    first = segments[0]["result"]["segments"][0]
    assert first["label_set"] == "sentiment" and first["labels"] == ["negative"]
    assert first["start"] == segments[0]["start"] and first["end"] == pytest.approx(segments[0]["end"], abs=1e-3)


def test_stream_protocol_errors(settings: ServiceSettings) -> None:
    with make_client(ServiceSettings(temp_dir=settings.temp_dir, stream_max_message_bytes=1000,
                                     api_key="k")) as client:
        with pytest.raises(Exception), client.websocket_connect("/v1/stream/audio") as ws:  # noqa: B017
            ws.receive_json()  # refused: no key
        with client.websocket_connect("/v1/stream/audio?api_key=k") as ws:
            ws.receive_json()
            ws.send_text("hello")
            assert "JSON controls" in ws.receive_json()["error"]
            ws.send_text(json.dumps({"type": "pause"}))
            assert "unknown control" in ws.receive_json()["error"]
            ws.send_bytes(b"\x00" * 2000)
            assert "larger than 1000 bytes" in ws.receive_json()["error"]
            assert ws.receive_json()["type"] == "done"
        with client.websocket_connect("/v1/stream/audio?sample_rate=8000",
                                      headers={"Authorization": "Bearer k"}) as ws:
            assert "sample_rate=16000" in ws.receive_json()["error"]
