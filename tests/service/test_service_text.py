"""Text endpoints, errors, limits, auth, request ids, health, micro-batching."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from service_helpers import SlowRecognizer, make_client

from affectlens.recognizers.text_onnx import TextOnnxRecognizer
from affectlens.service.settings import ServiceSettings
from affectlens.testing import DummyRecognizer, make_tiny_text_model
from affectlens.types import EmotionResult


def test_single_text_is_the_library_json(client: Any) -> None:
    response = client.post("/v1/analyze/text", json={"text": "Wow, I am so happy you came, but a little nervous."})
    assert response.status_code == 200
    data = response.json()
    result = EmotionResult.from_dict(data)
    assert data == result.to_dict()  # exactly EmotionResult.to_dict()
    seg = result.segments[0]
    assert seg.provenance.recognizer == "dummy.keywords.v1"
    assert set(seg.labels) == {"fear", "joy", "surprise"}
    spans = {seg.text[c.span[0] : c.span[1]] for c in seg.cues if c.span and seg.text}  # type: ignore[index]
    assert {"Wow", "happy", "nervous"} <= spans


def test_batch_keeps_order_and_marks_empty_texts(client: Any) -> None:
    response = client.post("/v1/analyze/texts", json={"texts": ["so angry", "   ", "happy day"]})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["record_id"] for r in results] == ["1", "2", "3"]
    assert results[0]["segments"][0]["labels"] == ["anger"]
    assert results[1]["segments"] == [] and "empty text" in results[1]["warnings"][0]
    assert results[2]["segments"][0]["labels"] == ["joy"]


def test_labels_convert_the_result(client: Any) -> None:
    data = client.post("/v1/analyze/text", json={"text": "I am so happy", "labels": "sentiment"}).json()
    seg = data["segments"][0]
    assert seg["label_set"] == "sentiment"
    assert seg["labels"] == ["positive"]
    assert seg["extras"]["mapped_from"] == "ekman"


def test_model_by_name_and_errors(client: Any) -> None:
    ok = client.post("/v1/analyze/text", json={"text": "happy", "model": "dummy.keywords.v1"})
    assert ok.status_code == 200
    unknown = client.post("/v1/analyze/text", json={"text": "happy", "model": "text.nope.v9"})
    assert unknown.status_code == 400 and "unknown model 'text.nope.v9'" in unknown.json()["error"]
    prefixed = client.post("/v1/analyze/text", json={"text": "happy", "model": "llm:some-model"})
    assert prefixed.status_code == 400  # made-on-request models (LLM calls) are not reachable over HTTP
    bad_labels = client.post("/v1/analyze/text", json={"text": "happy", "labels": "nope"})
    assert bad_labels.status_code == 400 and "unknown label set" in bad_labels.json()["error"]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_text_model(tmp_path_factory.mktemp("tiny-text"))


def test_onnx_text_model_through_the_service(settings: ServiceSettings, tiny_model_dir: Path) -> None:
    recognizer = TextOnnxRecognizer(tiny_model_dir, name="text.tiny.v1", threads=1)
    with make_client(settings, [recognizer]) as client:
        assert client.get("/readyz").json() == {"ready": True, "model": "text.tiny.v1", "error": None}
        seg = client.post("/v1/analyze/text", json={"text": "I am so happy today"}).json()["segments"][0]
        assert seg["labels"][0] == "joy" and seg["label_set"] == "goemotions"
        assert any(c["label"] == "joy" and c["span"] == [8, 13] for c in seg["cues"])  # "happy"
        ekman = client.post("/v1/analyze/text", json={"text": "I am so happy today", "labels": "ekman"}).json()
        assert ekman["segments"][0]["labels"][0] == "joy"


def test_occlusion_cues_share_the_loaded_model(settings: ServiceSettings, tiny_model_dir: Path) -> None:
    recognizer = TextOnnxRecognizer(tiny_model_dir, name="text.tiny.v1", threads=1)
    with make_client(settings, [recognizer]) as client:
        body = {"text": "I am so happy today", "cues": "occlusion"}
        seg = client.post("/v1/analyze/text", json=body).json()["segments"][0]
        assert seg["extras"]["cue_method"] == "occlusion" and "if deleted" in seg["cues"][0]["phrase"]
        assert seg["cues"][0]["span"] == [8, 13]
        plain = client.post("/v1/analyze/text", json={"text": "I am so happy today"}).json()["segments"][0]
        assert "cue_method" not in plain.get("extras", {}) and plain["scores"] == seg["scores"]
        many = client.post("/v1/analyze/texts", json={"texts": ["I am sad", "wow"], "cues": "occlusion"}).json()
        assert [r["segments"][0]["extras"]["cue_method"] for r in many["results"]] == ["occlusion"] * 2
        assert recognizer.cues == "decomposition"  # the request got a copy
        bad = client.post("/v1/analyze/text", json={"text": "hi", "cues": "gradients"})
        assert bad.status_code == 422


def test_occlusion_is_refused_for_a_model_without_it(client: Any) -> None:
    response = client.post("/v1/analyze/text", json={"text": "so happy", "cues": "occlusion"})
    assert response.status_code == 400 and "offers no occlusion cues" in response.json()["error"]


def test_dialogue_gives_one_segment_per_turn(client: Any) -> None:
    body = {"turns": [{"text": "I hate waiting", "speaker": "A"}, {"text": "wow, great news", "speaker": "B"},
                      {"text": " "}]}
    data = client.post("/v1/analyze/dialogue", json=body).json()
    assert [(s["turn"], s["speaker"]) for s in data["segments"]] == [(0, "A"), (1, "B")]
    assert data["segments"][0]["labels"] == ["anger"]
    assert all(s["extras"]["context"] == "dialogue" for s in data["segments"])  # the conversation model
    assert any("turn 3: empty text" in w for w in data["warnings"])
    baseline = client.post("/v1/analyze/dialogue", json={**body, "model": "dummy.keywords.v1"}).json()
    assert any("turns analysed one by one" in w for w in baseline["warnings"])
    unknown = client.post("/v1/analyze/dialogue", json={**body, "labels": "nope"})
    assert unknown.status_code == 400 and "unknown label set" in unknown.json()["error"]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b'{"text": "unterminated', 400, "malformed JSON"),
        (b"[1, 2", 400, "malformed JSON"),
        (b'{"txt": "hello"}', 422, "txt: Extra inputs are not permitted"),
        (b'{"text": 42}', 422, "text: Input should be a valid string"),
        (b'{"text": ""}', 422, "text: String should have at least 1 character"),
        (b'{"text": "hi", "labels": ["a"]}', 422, "labels"),
        (b"", 422, "body: Field required"),
    ],
)
def test_bad_bodies_are_clear_4xx(client: Any, body: bytes, status: int, fragment: str) -> None:
    response = client.post("/v1/analyze/text", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    data = response.json()
    assert fragment in data["error"]
    assert data["status"] == status and data["request_id"]


def test_json_endpoints_want_json(client: Any) -> None:
    response = client.post("/v1/analyze/text", content=b'{"text": "hi"}', headers={"content-type": "text/plain"})
    assert response.status_code == 415 and "application/json" in response.json()["error"]
    form = client.post("/v1/analyze/texts", data={"texts": "hi"})
    assert form.status_code == 415
    charset = client.post("/v1/analyze/text", content=b'{"text": "hi"}',
                          headers={"content-type": "application/json; charset=utf-8"})
    assert charset.status_code == 200


def test_size_limits(settings: ServiceSettings) -> None:
    tight = ServiceSettings(temp_dir=settings.temp_dir, max_body_bytes=10_000, max_text_chars=100, max_batch_texts=3)
    with make_client(tight) as client:
        huge = client.post("/v1/analyze/text", json={"text": "a" * 20_000})
        assert huge.status_code == 413 and "10000 bytes" in huge.json()["error"]
        # a chunked body without Content-Length is counted as it streams
        chunks = iter([b'{"text": "', b"a" * 6_000, b"a" * 6_000, b'"}'])
        streamed = client.post("/v1/analyze/text", content=chunks, headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        long_text = client.post("/v1/analyze/text", json={"text": "a" * 101})
        assert long_text.status_code == 422 and "limit of 100 characters" in long_text.json()["error"]
        many = client.post("/v1/analyze/texts", json={"texts": ["a"] * 4})
        assert many.status_code == 422 and "limit of 3" in many.json()["error"]


def test_request_id_in_and_out(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="affectlens.service"):
        given = client.post("/v1/analyze/text", json={"text": "hi"}, headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    assert any("request_id=abc-123" in r.getMessage() and "/v1/analyze/text 200" in r.getMessage()
               for r in caplog.records)
    made = client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    hostile = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline" + "x" * 200})
    assert hostile.headers["x-request-id"] != "bad id"  # replaced, never echoed back
    error = client.post("/v1/analyze/text", json={}, headers={"X-Request-ID": "req-7"})
    assert error.json()["request_id"] == "req-7"


def test_api_key_guards_everything_but_health(settings: ServiceSettings) -> None:
    with make_client(ServiceSettings(temp_dir=settings.temp_dir, api_key="s3cret")) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        assert client.get("/").status_code == 200  # the page holds no data; it asks for the key
        denied = client.post("/v1/analyze/text", json={"text": "hi"})
        assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"
        wrong = client.post("/v1/analyze/text", json={"text": "hi"}, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert client.get("/v1/jobs/abc").status_code == 401
        assert client.get("/v1/models").status_code == 401
        ok = client.post("/v1/analyze/text", json={"text": "hi"}, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200


def test_health_and_readiness(settings: ServiceSettings) -> None:
    missing = ServiceSettings(temp_dir=settings.temp_dir, model="text.not-installed.v1")
    with make_client(missing, recognizers=[]) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["ready"] is False
        response = client.post("/v1/analyze/text", json={"text": "hi"})
        assert response.status_code == 503 and "text.not-installed.v1" in response.json()["error"]


def test_models_lists_text_models(client: Any) -> None:
    data = client.get("/v1/models").json()
    names = {m["name"]: m for m in data["models"]}
    assert names["dummy.keywords.v1"]["default"] and names["dummy.keywords.v1"]["loaded"]
    assert data["stream_recognizer"] is None


def test_timeout_is_504(settings: ServiceSettings) -> None:
    slow = SlowRecognizer(delay=0.5)
    with make_client(ServiceSettings(temp_dir=settings.temp_dir, request_timeout_s=0.1), [slow]) as client:
        response = client.post("/v1/analyze/text", json={"text": "hi"})
        assert response.status_code == 504 and "0.1 s" in response.json()["error"]


def test_concurrent_requests_share_model_calls(settings: ServiceSettings) -> None:
    slow = SlowRecognizer(delay=0.05)
    with make_client(settings, [slow]) as client:
        engine = client.app.state.affectlens.engine
        barrier = threading.Barrier(12)
        statuses: list[int] = []

        def one(i: int) -> None:
            barrier.wait()
            r = client.post("/v1/analyze/text", json={"text": f"happy {i}"})
            statuses.append(r.status_code)
            assert r.json()["segments"][0]["text"] == f"happy {i}"  # each gets its own result back

        threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [200] * 12
        assert engine.texts_run == 12
        assert engine.batches_run < 12  # requests that arrived while the model was busy were batched


def test_page_and_assets_are_local(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for asset in ("/static/app.js", "/static/style.css"):
        body = client.get(asset)
        assert body.status_code == 200
        assert "http://" not in body.text.replace("http://www.w3.org/2000/svg", "") and "https://" not in body.text
    assert "https://" not in page.text and "http://" not in page.text
    assert client.get("/docs").status_code == 404  # Swagger UI would load a CDN


def test_settings_from_env() -> None:
    env = {"AFFECTLENS_PORT": "9001", "AFFECTLENS_API_KEY": "k", "AFFECTLENS_REQUEST_TIMEOUT_S": "2.5"}
    loaded = ServiceSettings.from_env(env, port=None, max_jobs_queued=3)
    assert (loaded.port, loaded.api_key, loaded.request_timeout_s, loaded.max_jobs_queued) == (9001, "k", 2.5, 3)
    with pytest.raises(ValueError, match="AFFECTLENS_PORT"):
        ServiceSettings.from_env({"AFFECTLENS_PORT": "eighty"})


def test_default_recognizer_is_not_needed_for_dummy(settings: ServiceSettings) -> None:
    with make_client(settings, [DummyRecognizer()]) as client:
        assert client.get("/readyz").status_code == 200


def test_dialogue_with_support_suggestions(upload_dir: Path) -> None:
    from affectlens.dialogue.support import DEFAULT_MODEL_DIR

    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        pytest.skip("support model not in place")
    # the first request loads the text encoder: allow a loaded test machine more than 30 s
    with make_client(ServiceSettings(temp_dir=str(upload_dir), request_timeout_s=300.0)) as client:
        _support_request(client)


def _support_request(client: Any) -> None:
    body = {"turns": [{"speaker": "seeker", "text": "I feel so alone since the breakup."},
                      {"speaker": "helper", "text": "That sounds painful. How long ago was it?"},
                      {"speaker": "seeker", "text": "Two weeks. Sometimes I want to die."}],
            "support": True, "supporter": "helper"}
    data = client.post("/v1/analyze/dialogue", json=body).json()
    points = {s["turn"]: s["extras"]["support"] for s in data["segments"] if "support" in s["extras"]}
    assert points[0]["suggested"] in points[0]["probabilities"]
    assert points[2]["route_to_person"] and points[2]["suggested"] is None  # crisis language: a person, no strategy
