"""Confidence calibration: temperatures fitted on dev data (per label, single-label, soft targets).

Its check, the expected calibration error, lives with the other metrics in ``affectlens.metrics``
(``calibration_error`` and its variants); the two multi-label ECEs of the text model's card are
named here because its recipe and card use these names.
"""

from __future__ import annotations

import numpy as np

from affectlens.metrics import calibration_error

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


def threshold_decisions(probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Multi-label decisions over the last axis: every label at or over its threshold, and where
    none is, the one nearest (furthest over) its threshold, so no text is left without a label."""
    probs = np.asarray(probs)
    predicted = probs >= thresholds
    nearest = np.argmax(probs / np.maximum(thresholds, 1e-6), axis=-1)
    return predicted | (~predicted.any(-1, keepdims=True) & (np.arange(probs.shape[-1]) == nearest[..., None]))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Softmax over the last axis of ``logits / temperature`` (numerically stable)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return np.asarray(e / e.sum(axis=-1, keepdims=True))


def softmax_nll(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of ``labels`` under ``softmax(logits / temperature)`` (numerically stable)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    return float(-(z[np.arange(len(labels)), labels] - np.log(np.exp(z).sum(axis=1))).mean())


def fit_softmax_temperature(logits: np.ndarray, labels: np.ndarray, grid: np.ndarray = TEMPERATURE_GRID) -> float:
    """The single-label temperature minimising dev-set negative log-likelihood (first minimum of ``grid``)."""
    losses = [softmax_nll(logits, labels, float(t)) for t in grid]
    return float(grid[int(np.argmin(losses))])


def soft_cross_entropy(logits: np.ndarray, targets: np.ndarray, temperature: float = 1.0) -> float:
    """Mean cross-entropy of ``softmax(logits / temperature)`` against target distributions (e.g. vote shares)."""
    probs = softmax(np.asarray(logits, dtype=np.float64), temperature)
    return float(-(np.asarray(targets) * np.log(np.maximum(probs, 1e-12))).sum(1).mean())


def fit_soft_temperature(logits: np.ndarray, targets: np.ndarray, grid: np.ndarray = TEMPERATURE_GRID) -> float:
    """The temperature minimising ``soft_cross_entropy`` against ``targets`` (first minimum of ``grid``)."""
    losses = [soft_cross_entropy(logits, targets, float(t)) for t in grid]
    return float(grid[int(np.argmin(losses))])


def expected_calibration_error(probs: np.ndarray, y_true: np.ndarray, n_bins: int = 15) -> float:
    """ECE over every (example, label) probability, equal-width bins closed on the left (multi-label)."""
    return calibration_error(probs, y_true, n_bins, closed="left")


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
