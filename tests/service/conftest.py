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
