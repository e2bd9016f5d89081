"""The service never trains a model: a peer that needs training is refused and listed as not ready.

Through the real ``affectlens serve`` process, with ``AFFECTLENS_PEER_TRAIN=1`` set on purpose
(the library's opt-in must not reach the service) and a tiny corpus that would train in a second.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from real_server import serving

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tiny_corpora import write_tiny_goemotions


@pytest.mark.slow
def test_serve_refuses_to_train_and_lists_readiness(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    data = write_tiny_goemotions(tmp_path / "data")
    cache = tmp_path / "cache"
    env = {"AFFECTLENS_PEER_TRAIN": "1", "AFFECTLENS_DATA": str(data), "AFFECTLENS_CACHE": str(cache)}
    with serving(tmp_path, "--log-level", "warning", env=env, model=None, wait_for="/healthz") as served:
        base = served.base
        answer = httpx.post(base + "/v1/analyze/text", json={"text": "I feel joy", "model": "peer.tfidf-logreg.v1"},
                            timeout=60)
        assert answer.status_code == 409, answer.text
        assert "not ready" in answer.json()["error"] and "never trains" in answer.json()["error"]
        job = httpx.post(base + "/v1/jobs", files={"file": ("t.csv", b"text\nI feel joy\n", "text/csv")},
                         data={"model": "peer.tfidf-logreg.v1"}, timeout=60)
        assert job.status_code == 409, job.text
        dialogue = httpx.post(base + "/v1/analyze/dialogue", timeout=60, json={
            "turns": [{"speaker": "a", "text": "I feel joy"}], "model": "peer.tfidf-logreg.v1"})
        assert dialogue.status_code in (400, 409), dialogue.text
        models = httpx.get(base + "/v1/models", timeout=60).json()["models"]
        row = next(m for m in models if m["name"] == "peer.tfidf-logreg.v1")
        assert row["ready"] is False and row["loaded"] is False
        assert "AFFECTLENS_PEER_TRAIN=1 affectlens analyze" in row["reason"]
        assert all(m["reason"] is None for m in models if m["ready"])
    assert not cache.exists() or not list(cache.rglob("*.npz"))  # nothing was trained
