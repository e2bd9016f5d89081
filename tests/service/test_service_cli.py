"""``affectlens serve``: options reach the settings; uvicorn is not started in tests."""

from __future__ import annotations

from typing import Any

import pytest

from affectlens.cli import run
from affectlens.service import app as service_app
from affectlens.service.settings import ServiceSettings


def test_serve_passes_options_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run_server(settings: ServiceSettings, *, log_level: str = "info") -> None:
        seen["settings"] = settings

    monkeypatch.setattr(service_app, "run_server", fake_run_server)
    monkeypatch.setenv("AFFECTLENS_API_KEY", "from-env")
    monkeypatch.setenv("AFFECTLENS_MAX_TEXT_CHARS", "500")
    code = run(["serve", "--port", "9123", "--max-upload-mb", "2", "--max-jobs", "3", "--model", "dummy.keywords.v1"])
    assert code == 0
    settings = seen["settings"]
    assert (settings.host, settings.port, settings.api_key, settings.model) == (
        "127.0.0.1", 9123, "from-env", "dummy.keywords.v1")
    assert (settings.max_upload_bytes, settings.max_jobs_queued, settings.max_text_chars) == (2 << 20, 3, 500)


def test_serve_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--api-key" in out and "AFFECTLENS_API_KEY" in out and "--host" in out
