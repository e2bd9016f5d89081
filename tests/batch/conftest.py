"""Fixtures for the batch tests: a table writer and the tiny ONNX text model."""

from __future__ import annotations

import json
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
    from affectlens.bench.datasets import GOEMOTIONS_LABELS
    from affectlens.models import sha256_file
    from affectlens.testing import make_tiny_text_onnx, make_tiny_tokenizer

    folder = tmp_path_factory.mktemp("tiny-text-batch")
    make_tiny_text_onnx(folder / "model.onnx")
    make_tiny_tokenizer(folder / "tokenizer.json")
    config = {
        "labels": list(GOEMOTIONS_LABELS), "label_set": "goemotions", "neutral_label": "neutral",
        "temperatures": [1.0] * 28, "thresholds": [0.5] * 28,
        "vad": {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "scale_center": 0.0, "scale_half_range": 1.0},
        "sha256": {name: sha256_file(folder / name) for name in ("model.onnx", "tokenizer.json")},
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder
