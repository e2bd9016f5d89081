"""The exploratory logit re-mix: exact gradient, identity start, and it learns a projected label."""

from __future__ import annotations

import numpy as np

from affectlens_recipes.text_xcorpus_remix import N_LABELS, fit_remix, goemotions_f1, meld_weighted_f1, remix_loss


def _data(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    ge_z = rng.normal(0, 2, (60, N_LABELS))
    ge_y = (rng.random((60, N_LABELS)) < 0.1).astype(float)
    other_z = rng.normal(0, 2, (40, N_LABELS))
    other_y = rng.integers(0, 7, 40)
    return ge_z, ge_y, other_z, other_y, np.ones(40)


def test_gradient_matches_finite_differences() -> None:
    loss = remix_loss(*_data())
    rng = np.random.default_rng(1)
    params = np.concatenate([np.eye(N_LABELS).ravel(), np.zeros(N_LABELS)]) + rng.normal(0, 0.05, 812)
    _, grad = loss(params)
    for j in (0, 29, 400, 790, 811):
        step = np.zeros_like(params)
        step[j] = 1e-5
        numeric = (loss(params + step)[0] - loss(params - step)[0]) / 2e-5
        assert abs(grad[j] - numeric) < 1e-5 * max(1.0, abs(numeric))


def test_fit_moves_ekman_evidence_and_scores_stay_defined() -> None:
    ge_z, ge_y, other_z, _, w = _data()
    fear = 14  # GoEmotions 'fear' is in the Ekman fear group (index 2)
    other_y = np.full(len(other_z), 2)
    a, b = fit_remix(remix_loss(ge_z, ge_y, other_z, other_y, w, other_weight=5.0), max_iter=100)
    assert b[fear] > 0 or a[fear].sum() > 1  # the fear logit was pushed up
    identity = (np.eye(N_LABELS), np.zeros(N_LABELS))
    f1 = goemotions_f1((ge_z, ge_y.astype(np.int8)), (ge_z, ge_y.astype(np.int8)), *identity)
    assert 0.0 <= f1 <= 1.0
    assert 0.0 <= meld_weighted_f1(other_z, other_y, a, b) <= 1.0
