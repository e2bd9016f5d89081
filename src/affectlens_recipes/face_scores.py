"""How the FER+ recipes score a model: accuracy/macro-F1/confusion, FER2013's 7-class accuracy, ECE,
the vote-distribution temperature and bootstrap intervals (shared by ``face``, ``face_ensemble`` and
``face_fusion``)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.bench.ferplus_data import SPLITS, FerSplit
from affectlens.calibration import fit_soft_temperature, soft_cross_entropy
from affectlens.metrics import bootstrap_ci as percentile_interval
from affectlens.metrics import ece_top_label

FERPLUS_LABELS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")
FER2013_TO_FERPLUS = {"neutral": "neutral", "happy": "happiness", "surprise": "surprise", "sad": "sadness",
                      "angry": "anger", "disgust": "disgust", "fear": "fear"}
SEED = 7


def scores(true: np.ndarray, pred: np.ndarray, n: int = len(FERPLUS_LABELS)) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class F1 and the confusion matrix (rows: true, columns: predicted)."""
    confusion = np.zeros((n, n), dtype=np.int64)
    np.add.at(confusion, (true, pred), 1)
    tp = np.diag(confusion).astype(np.float64)
    precision = tp / np.maximum(confusion.sum(0), 1)
    recall = tp / np.maximum(confusion.sum(1), 1)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    present = confusion.sum(1) > 0
    return {
        "n": len(true),
        "accuracy": round(float((true == pred).mean()) if len(true) else 0.0, 4),
        "macro_f1": round(float(f1[present].mean()) if present.any() else 0.0, 4),
        "per_class_f1": {FERPLUS_LABELS[i]: round(float(f1[i]), 4) for i in range(n)},
        "confusion": confusion.tolist(),
        "labels": list(FERPLUS_LABELS),
    }


def fer2013_private_accuracy(data: Path, test: FerSplit, probs: np.ndarray) -> dict[str, Any]:
    """Accuracy on the original FER2013 7-class PrivateTest labels (contempt dropped, argmax of 7)."""
    path = data / "fer2013_ferplus_images" / "fer2013_original_labels.csv"
    if not path.is_file():
        return {}
    original: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get("folder") == SPLITS["test"] and row.get("fer2013_emotion"):
                original[row["image"]] = row["fer2013_emotion"]
    seven = [FERPLUS_LABELS.index(FER2013_TO_FERPLUS[k]) for k in FER2013_TO_FERPLUS]
    hits = total = 0
    for name, p in zip(test.names, probs, strict=True):
        label = original.get(name)
        if label is None:
            continue
        predicted = seven[int(np.argmax(p[seven]))]
        hits += int(predicted == FERPLUS_LABELS.index(FER2013_TO_FERPLUS[label]))
        total += 1
    note = "images kept by FER+ (unknown/not-a-face plurality dropped); PrivateTest rows with a recovered label"
    return {"n": total, "accuracy": round(hits / total, 4) if total else None, "note": note}


def ece(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE against the majority label, as the card reports it (4 decimals)."""
    return round(ece_top_label(probs, labels, bins), 4)


def fit_temperature(logits: np.ndarray, targets: np.ndarray) -> tuple[float, float, float]:
    """Temperature minimising the cross-entropy against the vote distributions (grid 0.5-3.0), and the
    cross-entropy before and after."""
    best = fit_soft_temperature(logits, targets, np.round(np.arange(0.5, 3.0001, 0.02), 2))
    return best, round(soft_cross_entropy(logits, targets, 1.0), 4), round(soft_cross_entropy(logits, targets, best), 4)


def bootstrap_ci(true: np.ndarray, pred: np.ndarray, n_boot: int = 1000, seed: int = SEED) -> dict[str, list[float]]:
    """95% percentile intervals of accuracy and macro-F1 over test faces resampled with replacement."""
    intervals = {}
    for key in ("accuracy", "macro_f1"):
        low, high = percentile_interval(lambda t, p, k=key: float(scores(t, p)[k]), true, pred,
                                        n_resamples=n_boot, seed=seed)
        intervals[key] = [round(low, 4), round(high, 4)]
    return intervals
