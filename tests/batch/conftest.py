"""Fixtures for the batch tests: a table writer and the tiny ONNX text model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from batch_helpers import write_rows


@pytest.fixture
def rows_writer(tmp_path: Path) -> Callable[[str, list[dict[str, Any]]], Path]:
    def make(name: str, rows: list[dict[str, Any]]) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_rows(path, rows)

    return make


@pytest.fixture(scope="session")
def tiny_text_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from affectlens.testing import make_tiny_text_model

    return make_tiny_text_model(tmp_path_factory.mktemp("tiny-text-batch"))
