"""Bagged threshold re-fit of a packaged text model: the decisions mirror ``analyze``, ``--write`` keeps the past."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from tests.tiny_corpora import write_tiny_goemotions

from affectlens.calibration import threshold_decisions as decide
from affectlens.inputs import TextItem
from affectlens.recognizers.text_onnx import TextOnnxRecognizer
from affectlens.testing.tiny_text import make_tiny_text_model
from affectlens_recipes.text_thresholds import cross_fitted, refit


def test_decide_is_what_analyze_predicts(tmp_path: Path) -> None:
    folder = make_tiny_text_model(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    config["thresholds"] = list(np.linspace(0.2, 0.9, 28).round(3))  # some texts pass none: the fallback decides
    (folder / "config.json").write_text(json.dumps(config))
    rec = TextOnnxRecognizer(folder, threads=1)
    texts = ["I feel joy today", "so angry at this", "nothing", "what a surprise, thank you", "grief and sadness"]
    results = rec.analyze([TextItem(t) for t in texts])
    probs = np.array([[r.segments[0].scores[label] for label in rec.config.labels] for r in results])
    pred = decide(probs, rec.config.thresholds)
    for row, result in zip(pred, results, strict=True):
        assert {rec.config.labels[i] for i in np.flatnonzero(row)} == set(result.segments[0].labels)


def test_cross_fitted_gives_one_figure_per_split() -> None:
    rng = np.random.default_rng(0)
    gold = (rng.random((80, 3)) < 0.3).astype(int)
    probs = np.clip(gold * 0.5 + rng.random((80, 3)) * 0.5, 0, 1)
    figures = cross_fitted(gold, probs, lambda g, p: np.full(p.shape[1], 0.5), splits=4)
    assert len(figures) == 4 and all(0.0 <= f <= 1.0 for f in figures)


def test_refit_writes_bagged_thresholds_and_keeps_the_previous_figures(tmp_path: Path) -> None:
    root = write_tiny_goemotions(tmp_path / "data")
    shutil.copy(root / "goemotions" / "dev.tsv", root / "goemotions" / "test.tsv")
    folder = make_tiny_text_model(tmp_path / "model")
    before = {"macro_f1_dev_tuned_thresholds": 0.1, "micro_f1_dev_tuned_thresholds": 0.2, "ekman7_macro_f1": 0.3}
    (folder / "metrics.json").write_text(json.dumps({"goemotions_test": dict(before),
                                                     "goemotions_dev": {"macro_f1_dev_tuned_thresholds": 0.1}}))
    report = refit(folder, root, n_boot=3, write=True)
    config = json.loads((folder / "config.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    assert config["thresholds"] != [0.5] * 28 and all(0.02 <= t <= 0.95 for t in config["thresholds"])
    assert metrics["thresholds_refit"]["before"] == {**before, "thresholds": [0.5] * 28}
    assert metrics["goemotions_test"]["macro_f1_dev_tuned_thresholds"] == report["test_bagged"][
        "macro_f1_dev_tuned_thresholds"]
    assert set(metrics["goemotions_test"]["per_label_f1"]) == set(config["labels"])
    assert metrics["goemotions_dev"]["macro_f1_dev_tuned_thresholds"] == report["dev"]["in_sample_bagged"]
    TextOnnxRecognizer(folder, threads=1).load()  # the folder still loads (hashes cover the graph, not config)
    with pytest.raises(SystemExit, match="re-fitted"):  # a second write would lose the packaged thresholds
        refit(folder, root, n_boot=3, write=True)
    assert json.loads((folder / "config.json").read_text()) == config


def test_every_rule_gives_one_grid_threshold_per_label() -> None:
    from affectlens.metrics import best_thresholds
    from affectlens_recipes.threshold_rules import RULES, smoothed_peak

    rng = np.random.default_rng(4)
    gold = (rng.random((120, 3)) < [0.4, 0.1, 0.03]).astype(int)
    probs = np.clip(gold * 0.4 + rng.random((120, 3)) * 0.6, 0, 1)
    for name, rule in RULES.items():
        thresholds = rule(gold, probs)
        assert thresholds.shape == (3,), name
        assert np.all((thresholds >= 0.02 - 1e-9) & (thresholds <= 0.95 + 1e-9)), name
    np.testing.assert_allclose(smoothed_peak(0)(gold, probs), best_thresholds(gold, probs))
