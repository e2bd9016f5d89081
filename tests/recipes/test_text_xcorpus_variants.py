"""Choosing the successor's storage on dev: cross-fitted thresholds, weight averages, the version's name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from affectlens_recipes.text_xcorpus_variants import cross_fitted_macro_f1

pytest.importorskip("onnx")


def test_cross_fitting_never_scores_a_half_with_its_own_thresholds() -> None:
    rng = np.random.default_rng(0)
    gold = (rng.random((400, 3)) < 0.3).astype(np.float32)
    # an informative label, a noise label, and a label whose signal flips between the halves
    logits = np.stack([gold[:, 0] * 3 - 1.5 + rng.normal(0, 0.5, 400), rng.normal(0, 1, 400),
                       np.where(np.arange(400) % 2 == 0, 1, -1) * (gold[:, 2] * 3 - 1.5)], axis=1)
    from affectlens.metrics import best_thresholds, macro_f1_multilabel

    probs = 1.0 / (1.0 + np.exp(-logits))
    in_sample = macro_f1_multilabel(gold, probs >= best_thresholds(gold, probs))
    crossed = cross_fitted_macro_f1(gold, logits)
    assert 0.0 < crossed < in_sample  # fitted on the other half: never better than in-sample here


def test_a_soup_is_the_weighted_average_of_its_sources(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from affectlens_recipes.text_xcorpus import soup

    a = {"encoder.x": torch.ones(2, 2), "emotion_head.weight": torch.zeros(3), "other.skip": torch.ones(1)}
    b = {"encoder.x": torch.full((2, 2), 3.0), "emotion_head.weight": torch.ones(3), "other.skip": torch.ones(1)}
    torch.save(a, tmp_path / "a.pt")
    torch.save(b, tmp_path / "b.pt")
    soup(tmp_path / "out", [tmp_path / "a.pt", tmp_path / "b.pt"], [0.25, 0.75], 7, complete=False)
    mixed = torch.load(tmp_path / "out" / "step7.pt")
    assert set(mixed) == {"encoder.x", "emotion_head.weight"}
    np.testing.assert_allclose(mixed["encoder.x"].numpy(), 2.5)
    np.testing.assert_allclose(mixed["emotion_head.weight"].numpy(), 0.75)
    with pytest.raises(ValueError, match="summing to 1"):
        soup(tmp_path / "out", [tmp_path / "a.pt", tmp_path / "b.pt"], [0.5, 0.6], 7, complete=False)


def test_a_soup_carries_its_runs_vad_scaling_and_refuses_runs_that_disagree(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from affectlens_recipes.text_xcorpus import soup

    runs = [tmp_path / "run_a", tmp_path / "run_b"]
    for run in runs:
        run.mkdir()
        torch.save({"encoder.x": torch.ones(2)}, run / "step7.pt")
        (run / "vad_scaling.json").write_text(json.dumps({"mean": [3.0, 3.0, 3.0], "std": [0.3, 0.2, 0.2]}))
    soup(tmp_path / "out", [run / "step7.pt" for run in runs], [0.5, 0.5], 7, complete=False)
    assert json.loads((tmp_path / "out" / "vad_scaling.json").read_text())["std"] == [0.3, 0.2, 0.2]
    (runs[1] / "vad_scaling.json").write_text(json.dumps({"mean": [2.0, 3.0, 3.0], "std": [0.3, 0.2, 0.2]}))
    with pytest.raises(ValueError, match="differ"):
        soup(tmp_path / "out2", [run / "step7.pt" for run in runs], [0.5, 0.5], 7, complete=False)


def test_a_new_version_gets_its_name_licence_and_training_data(tmp_path: Path) -> None:
    from affectlens_recipes.text_xcorpus_finalize import (
        LICENSE,
        LICENSE_BY_VERSION,
        TRAINING_DATA,
        TRAINING_DATA_BY_VERSION,
        rename,
    )

    (tmp_path / "config.json").write_text(json.dumps({"name": "text.minilm-goemotions.v1", "version": "v1"}))
    (tmp_path / "metrics.json").write_text(json.dumps({"model": "text.minilm-goemotions.v1"}))
    rename(tmp_path, "v3", "static-0+ffn")
    config = json.loads((tmp_path / "config.json").read_text())
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert (config["name"], config["version"]) == ("text.minilm-xcorpus.v3", "v3")
    assert (config["license"], config["training_data"]) == (LICENSE_BY_VERSION["v3"], TRAINING_DATA_BY_VERSION["v3"])
    assert "CC BY-NC-SA" in config["license"] and "never MELD" in config["training_data"]
    assert "EmpatheticDialogues" in config["license"] and "EmpatheticDialogues" in config["training_data"]
    assert metrics == {"model": "text.minilm-xcorpus.v3", "storage": "static-0+ffn"}
    rename(tmp_path, "v4")  # v4 averages two runs of v3's recipe: v3's data and terms
    config = json.loads((tmp_path / "config.json").read_text())
    assert (config["license"], config["training_data"]) == (LICENSE_BY_VERSION["v3"], TRAINING_DATA_BY_VERSION["v3"])
    rename(tmp_path, "v9")  # a version without its own entry states v2's
    config = json.loads((tmp_path / "config.json").read_text())
    assert (config["license"], config["training_data"]) == (LICENSE, TRAINING_DATA)


@pytest.mark.parametrize("variant, message", [
    ("static-0+ffn+solo+student8", "unknown flags"),  # +solo must come last
    ("static-0+ffn+student8+solo", "which \\+solo leaves out"),
    ("static-0+ffn+students", "unknown flags"),
    ("static-0+ffn+sq", "unknown flags"),
    ("static-0+ffn8", "\\+ffn8 quantizes what \\+ffn keeps float"),  # nothing float to quantize
    ("static-0+ffn+ffn8+solo", "\\+ffn8 quantizes what \\+ffn keeps float"),
])
def test_storage_flags_that_cannot_be_built_are_refused_before_any_work(tmp_path: Path, variant: str,
                                                                        message: str) -> None:
    from affectlens_recipes.text_xcorpus_variants import build

    w8 = tmp_path / "model_w8.onnx"
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "encoder_float.onnx").write_bytes(b"")  # present: the fold step is skipped
    with pytest.raises(ValueError, match=message):
        build(variant, w8, tmp_path / "work", {"mean": [3.0] * 3, "std": [1.0] * 3}, None)
