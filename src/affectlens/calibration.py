"""Confidence calibration: per-label temperature scaling fitted on dev data, and its check (ECE)."""

from __future__ import annotations

import numpy as np

TEMPERATURE_GRID = np.exp(np.linspace(np.log(0.25), np.log(4.0), 121))


def _bce(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean binary cross-entropy per column, numerically stable."""
    return (np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits)))).mean(0)


def fit_temperatures(logits: np.ndarray, y_true: np.ndarray, grid: np.ndarray = TEMPERATURE_GRID) -> np.ndarray:
    """One temperature per label (column) minimising dev-set log loss; 1-D grid search."""
    logits = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y_true, dtype=np.float64)
    losses = np.stack([_bce(logits / t, y) for t in grid])  # (grid, labels)
    return np.asarray(grid[np.argmin(losses, axis=0)], dtype=np.float64)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Softmax over the last axis of ``logits / temperature`` (numerically stable)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return np.asarray(e / e.sum(axis=-1, keepdims=True))


def fit_softmax_temperature(logits: np.ndarray, labels: np.ndarray, grid: np.ndarray = TEMPERATURE_GRID) -> float:
    """The single-label temperature minimising dev-set negative log-likelihood (first minimum of ``grid``)."""
    logits = np.asarray(logits, dtype=np.float64)
    rows = np.arange(len(labels))

    def nll(t: float) -> float:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        return float(-(z[rows, labels] - np.log(np.exp(z).sum(axis=1))).mean())

    losses = [nll(float(t)) for t in grid]
    return float(grid[int(np.argmin(losses))])


def expected_calibration_error(probs: np.ndarray, y_true: np.ndarray, n_bins: int = 15) -> float:
    """ECE over every (example, label) probability, equal-width bins (multi-label convention)."""
    p = np.asarray(probs, dtype=np.float64).ravel()
    y = np.asarray(y_true, dtype=np.float64).ravel()
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            ece += in_bin.mean() * abs(p[in_bin].mean() - y[in_bin].mean())
    return float(ece)


def top_label_calibration_error(probs: np.ndarray, y_true: np.ndarray, n_bins: int = 15) -> float:
    """ECE of the confidence a user sees: the top label's probability against whether it is a gold label.

    The per-(example, label) ECE above is dominated by easy negatives (most labels are
    absent from most texts); this one asks the question a user asks of one prediction.
    """
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y_true, dtype=np.float64)
    top = p.argmax(1)
    rows = np.arange(len(p))
    return expected_calibration_error(p[rows, top], y[rows, top], n_bins)
