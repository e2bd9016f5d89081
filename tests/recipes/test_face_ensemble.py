"""Face ensembles: one ONNX graph whose logits are the mean of its members' logits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")

from affectlens.testing import make_tiny_face_model
from affectlens_recipes.face import _logits
from affectlens_recipes.face_ensemble import merge_onnx_average


def test_merged_graph_averages_the_members_logits(tmp_path: Path) -> None:
    members = [make_tiny_face_model(tmp_path / f"m{seed}", seed=seed) / "model.onnx" for seed in (0, 1)]
    merge_onnx_average(members, tmp_path / "ensemble.onnx")
    faces = np.random.default_rng(0).integers(0, 256, (6, 48, 48)).astype(np.uint8)
    alone = [_logits(m, faces) for m in members]
    assert not np.allclose(alone[0], alone[1])
    assert np.allclose(_logits(tmp_path / "ensemble.onnx", faces), np.mean(alone, axis=0), atol=1e-5)
