"""The shipped text model, re-run on the dev splits, gives the figures its metrics files state."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from affectlens.recognizers.text_onnx import DEFAULT_MODEL_DIR, TextOnnxRecognizer

pytestmark = [pytest.mark.slow, pytest.mark.data]


def _splits() -> tuple[object, object]:
    from affectlens.bench.datasets import DatasetMissing, load_emobank, load_goemotions

    try:
        return load_goemotions("dev"), load_emobank("dev")
    except DatasetMissing:
        pytest.skip("GoEmotions / EmoBank not in ../shared/datasets")


XCORPUS_DIR = DEFAULT_MODEL_DIR.parent / "text-minilm-xcorpus-v2"
XCORPUS_V3_DIR = DEFAULT_MODEL_DIR.parent / "text-minilm-xcorpus-v3"
XCORPUS_V4_DIR = DEFAULT_MODEL_DIR.parent / "text-minilm-xcorpus-v4"


@pytest.mark.parametrize(("folder", "config_file", "metrics_file"), [
    (DEFAULT_MODEL_DIR, "config.json", "metrics.json"),
    (DEFAULT_MODEL_DIR, "config_float.json", "metrics_float.json"),
    (XCORPUS_DIR, "config.json", "metrics.json"),
    (XCORPUS_V3_DIR, "config.json", "metrics.json"),
    (XCORPUS_V4_DIR, "config.json", "metrics.json"),
], ids=["v1", "v1-float", "xcorpus-v2", "xcorpus-v3", "xcorpus-v4"])
def test_dev_figures_match_the_metrics_file(folder: Path, config_file: str, metrics_file: str) -> None:
    from affectlens.metrics import macro_f1_multilabel, pearson

    if not (folder / metrics_file).is_file():
        pytest.skip("shipped text model not present")
    goemotions, emobank = _splits()
    metrics = json.loads((folder / metrics_file).read_text(encoding="utf-8"))
    rec = TextOnnxRecognizer(folder, config_file=config_file, threads=2)
    labels = rec.config.labels
    # the metrics' dev F1 applies the thresholds alone (no "best label when none passes" rule)
    outputs = rec._infer(goemotions.texts)  # type: ignore[attr-defined]
    probs = 1.0 / (1.0 + np.exp(-np.stack([o[0] for o in outputs]) / rec.config.temperatures))
    f1 = macro_f1_multilabel(goemotions.labels, probs >= rec.config.thresholds)  # type: ignore[attr-defined]
    assert len(labels) == 28
    assert f1 == pytest.approx(metrics["goemotions_dev"]["macro_f1_dev_tuned_thresholds"], abs=5e-4)
    results = rec.analyze(emobank.texts)  # type: ignore[attr-defined]
    valence = np.array([r.segments[0].vad.valence for r in results])  # type: ignore[union-attr]
    r = pearson(emobank.vad[:, 0], valence)  # type: ignore[attr-defined]
    assert r == pytest.approx(metrics["emobank_dev"]["pearson_valence"], abs=2e-3)
