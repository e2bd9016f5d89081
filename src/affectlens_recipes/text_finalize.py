"""Calibrate an exported text model on dev, measure it on test, and package it.

Temperatures (one per label) and decision thresholds (one per label) are fitted on the
GoEmotions dev split only; the test split is touched once, for the reported numbers.
Inference goes through ``TextOnnxRecognizer``, the same code path users run.
"""

from __future__ import annotations

import json
import platform
import shutil
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.bench.datasets import GOEMOTIONS_LABELS, load_emobank, load_goemotions
from affectlens.calibration import expected_calibration_error, fit_temperatures, top_label_calibration_error
from affectlens.metrics import best_thresholds, macro_f1_multilabel, micro_f1_multilabel, pearson
from affectlens.models import MODELS_DIR, sha256_file
from affectlens.pretrained import minilm_dir
from affectlens.recognizers.text_onnx import TextOnnxRecognizer

MODEL_NAME = "text-minilm-goemotions-v1"
# EmoBank's SAM scale runs 1..5; (x - 3) / 2 maps it onto our [-1, 1] VAD convention.
EMOBANK_CENTER = 3.0
EMOBANK_HALF_RANGE = 2.0
# onnxruntime runs the int8-weight MatMuls as float MatMuls over dequantised weights (not fused
# into MatMulNBits with int8 activations): faster here, and what temperatures and thresholds are
# fitted on (recognizers/text_onnx.py)
SESSION_CONFIG = {"session.disable_quant_qdq": "1"}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _config(labels: tuple[str, ...], temps: np.ndarray, thresholds: np.ndarray,
            vad_scaling: dict[str, list[float]], session_config: dict[str, str],
            graph_file: str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "name": "text.minilm-goemotions.v1",
        "version": "v1",
        "label_set": "goemotions",
        "labels": list(labels),
        "neutral_label": "neutral",
        "temperatures": [round(float(t), 5) for t in temps],
        "thresholds": [round(float(t), 3) for t in thresholds],
        "vad": {"mean": vad_scaling["mean"], "std": vad_scaling["std"],
                "scale_center": EMOBANK_CENTER, "scale_half_range": EMOBANK_HALF_RANGE},
        "max_train_tokens": 64,
        "onnxruntime_session_config": session_config,
        "sha256": {},
    }
    if graph_file != "model.onnx":
        config["model_file"] = graph_file
    return config


def _logits(rec: TextOnnxRecognizer, texts: list[str]) -> tuple[np.ndarray, np.ndarray, float]:
    start = time.perf_counter()
    out = rec._infer(texts)
    seconds = time.perf_counter() - start
    return np.stack([o[0] for o in out]), np.stack([o[1] for o in out]), seconds


def ekman_grouping(pred: np.ndarray) -> np.ndarray:
    """GoEmotions-28 0/1 matrix -> Ekman-7 0/1 matrix via the taxonomy's exact grouping."""
    from affectlens.taxonomy import mapping

    matrix = np.asarray(mapping("goemotions", "ekman").matrix) > 0
    return (pred.astype(np.int32) @ matrix.astype(np.int32)) > 0


def finalize(out: Path, variant: str, data_root: Path | None, install: bool, *,
             graph_file: str = "model.onnx", session_config: dict[str, str] | None = None,
             companions: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Fit, measure and stage ``out/model_<variant>.onnx`` as ``graph_file`` in ``out/model-<variant>``.

    ``session_config``: the onnxruntime entries the graph runs with (default ``SESSION_CONFIG``);
    ``companions``: more files of the folder, copied beside it and pinned (the shipped
    ``model.onnx`` the conversation model reads when the text model runs another graph).
    """
    vad_scaling = json.loads((out / "vad_scaling.json").read_text())
    model_dir = out / f"model-{variant}"
    model_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(out / f"model_{variant}.onnx", model_dir / graph_file)
    shutil.copy(minilm_dir() / "tokenizer.json", model_dir / "tokenizer.json")
    for companion in companions:
        shutil.copy(companion, model_dir / companion.name)
    files = (graph_file, "tokenizer.json", *(c.name for c in companions))
    n = len(GOEMOTIONS_LABELS)
    raw = _config(GOEMOTIONS_LABELS, np.ones(n), np.full(n, 0.5), vad_scaling,
                  SESSION_CONFIG if session_config is None else session_config, graph_file)
    (model_dir / "config.json").write_text(json.dumps(raw, indent=2))
    rec = TextOnnxRecognizer(model_dir, verify=False, threads=2)
    rec.load()

    go_dev, go_test = load_goemotions("dev", data_root), load_goemotions("test", data_root)
    eb_dev, eb_test = load_emobank("dev", data_root), load_emobank("test", data_root)
    dev_logits, _, _ = _logits(rec, go_dev.texts)
    test_logits, _, test_seconds = _logits(rec, go_test.texts)
    _, eb_dev_vad, _ = _logits(rec, eb_dev.texts)
    _, eb_test_vad, _ = _logits(rec, eb_test.texts)

    temps = fit_temperatures(dev_logits, go_dev.labels)
    dev_probs = _sigmoid(dev_logits / temps)
    thresholds = best_thresholds(go_dev.labels, dev_probs)
    raw_test_probs = _sigmoid(test_logits)
    test_probs = _sigmoid(test_logits / temps)
    pred = test_probs >= thresholds
    pred_at_half = raw_test_probs >= 0.5
    mean, std = np.asarray(vad_scaling["mean"]), np.asarray(vad_scaling["std"])
    eb_pred = eb_test_vad * std + mean
    eb_dev_pred = eb_dev_vad * std + mean
    per_label = {label: round(float(f), 4) for label, f in zip(
        GOEMOTIONS_LABELS, _per_label_f1(go_test.labels, pred), strict=True)}
    metrics: dict[str, Any] = {
        "model": "text.minilm-goemotions.v1", "variant": variant, "graph": graph_file,
        "onnxruntime_session_config": raw["onnxruntime_session_config"], "date": date.today().isoformat(),
        "machine": f"{platform.machine()}, {_cores()} cores, python {platform.python_version()}",
        "goemotions_test": {
            "n": len(go_test.texts),
            "macro_f1_dev_tuned_thresholds": round(macro_f1_multilabel(go_test.labels, pred), 4),
            "micro_f1_dev_tuned_thresholds": round(micro_f1_multilabel(go_test.labels, pred), 4),
            "macro_f1_at_0.5_uncalibrated": round(macro_f1_multilabel(go_test.labels, pred_at_half), 4),
            "ekman7_macro_f1": round(macro_f1_multilabel(
                ekman_grouping(go_test.labels), ekman_grouping(pred)), 4),
            "ece_before_calibration": round(expected_calibration_error(raw_test_probs, go_test.labels), 5),
            "ece_after_calibration": round(expected_calibration_error(test_probs, go_test.labels), 5),
            "top_label_ece_before_calibration": round(top_label_calibration_error(raw_test_probs, go_test.labels), 5),
            "top_label_ece_after_calibration": round(top_label_calibration_error(test_probs, go_test.labels), 5),
            "per_label_f1": per_label,
            "texts_per_s_in_this_run": round(len(go_test.texts) / test_seconds, 1),
        },
        "goemotions_dev": {
            "macro_f1_dev_tuned_thresholds": round(macro_f1_multilabel(go_dev.labels, dev_probs >= thresholds), 4),
        },
        "emobank_test": {
            "n": len(eb_test.texts),
            "pearson_valence": round(pearson(eb_test.vad[:, 0], eb_pred[:, 0]), 4),
            "pearson_arousal": round(pearson(eb_test.vad[:, 1], eb_pred[:, 1]), 4),
            "pearson_dominance": round(pearson(eb_test.vad[:, 2], eb_pred[:, 2]), 4),
        },
        "emobank_dev": {
            "pearson_valence": round(pearson(eb_dev.vad[:, 0], eb_dev_pred[:, 0]), 4),
            "pearson_arousal": round(pearson(eb_dev.vad[:, 1], eb_dev_pred[:, 1]), 4),
            "pearson_dominance": round(pearson(eb_dev.vad[:, 2], eb_dev_pred[:, 2]), 4),
        },
    }
    np.save(out / f"test_probs_{variant}.npy", test_probs)
    final = _config(GOEMOTIONS_LABELS, temps, thresholds, vad_scaling, raw["onnxruntime_session_config"], graph_file)
    final["sha256"] = {name: sha256_file(model_dir / name) for name in files}
    (model_dir / "config.json").write_text(json.dumps(final, indent=2))
    (model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    (out / f"metrics_{variant}.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps({k: v for k, v in metrics.items() if k != "goemotions_test"}, indent=2))
    print(json.dumps({k: v for k, v in metrics["goemotions_test"].items() if k != "per_label_f1"}, indent=2))
    if install:
        target = MODELS_DIR / MODEL_NAME
        target.mkdir(parents=True, exist_ok=True)
        for name in (*files, "config.json", "metrics.json"):
            shutil.copy(model_dir / name, target / name)
        print(f"installed into {target}")
    return metrics


def _per_label_f1(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    from affectlens.metrics import f1_per_label

    return f1_per_label(y, pred)


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))
