"""Fixtures for the service tests (skipped as a whole without the ``service`` extra)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

if importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("multipart") is None:
    collect_ignore_glob = ["test_*.py"]  # pip install 'affectlens[service]' to run them


@pytest.fixture(autouse=True)
def _no_registered_media_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests pin the service's paths without registered speech and face models (501, "no
    speech recognizer installed"); tests that need one inject it.  The shipped models have
    their own tests in tests/recognizers/test_speech_onnx.py and test_face_onnx.py."""
    from affectlens import registry
    from affectlens.types import Modality

    registry.available()
    kept = {n: s for n, s in registry._REGISTRY.items() if s.modality not in (Modality.SPEECH, Modality.FACE)}
    monkeypatch.setattr(registry, "_REGISTRY", kept)


@pytest.fixture
def upload_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(upload_dir: Path) -> Any:
    from affectlens.service.settings import ServiceSettings

    return ServiceSettings(temp_dir=str(upload_dir))


@pytest.fixture
def client(settings: Any) -> Iterator[Any]:
    from service_helpers import make_client

    with make_client(settings) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (browser tests only: skips without chromium or playwright)."""
    from browser_helpers import launched, skip_without_browser

    with launched(skip_without_browser()) as chromium:
        yield chromium


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh 1100x900 page; the test fails if the page threw a JavaScript error meanwhile."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"
