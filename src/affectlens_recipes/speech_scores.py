"""The speech recipe's scores: per-fold metrics (UAR, WAR, binary arousal) and their summary over folds.

Shared by the recipe (``speech``), its finalize step and the RAVDESS benchmark, apart from both so
that neither imports the other.
"""

from __future__ import annotations

from typing import Any

import numpy as np

LABELS: tuple[str, ...] = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")


def metrics(probs: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    from affectlens.taxonomy import get_label_set, vad_from_scores

    pred = probs.argmax(axis=1)
    conf = np.zeros((len(LABELS), len(LABELS)), dtype=int)
    for t, p in zip(labels, pred, strict=True):
        conf[t, p] += 1
    recalls = conf.diagonal() / np.maximum(conf.sum(axis=1), 1)
    anchors = get_label_set("ravdess").anchors
    true_high = np.array([anchors[LABELS[t]].arousal > 0 for t in labels])
    pred_arousal = np.array([vad_from_scores(dict(zip(LABELS, map(float, p), strict=True)), "ravdess").arousal
                             for p in probs])
    return {
        "uar": round(float(recalls.mean()), 4),
        "war": round(float((pred == labels).mean()), 4),
        "arousal_binary_accuracy": round(float(((pred_arousal > 0) == true_high).mean()), 4),
        "arousal_binary_accuracy_top_label": round(float(
            (np.array([anchors[LABELS[p]].arousal > 0 for p in pred]) == true_high).mean()), 4),
        "recall_per_class": {LABELS[k]: round(float(r), 4) for k, r in enumerate(recalls)},
        "confusion": conf.tolist(),
        "n": len(labels),
    }


def summarise(folds: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    if not folds:
        return summary
    first = next(iter(folds.values()))
    for key, value in first.items():
        if not isinstance(value, dict) or "uar" not in value:
            continue
        row: dict[str, Any] = {}
        for metric in ("uar", "war", "arousal_binary_accuracy", "arousal_binary_accuracy_top_label"):
            values = [f[key][metric] for f in folds.values()]
            row[metric] = {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values)), 4),
                           "min": round(float(np.min(values)), 4), "max": round(float(np.max(values)), 4),
                           "per_fold": values}
        row["confusion"] = np.sum([np.array(f[key]["confusion"]) for f in folds.values()], axis=0).tolist()
        summary[key] = row
    summary["n_folds"] = len(folds)
    return summary
