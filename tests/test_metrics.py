"""Metrics on small hand-computed examples, and against scikit-learn where it is installed."""

from __future__ import annotations

import numpy as np
import pytest

from affectlens import metrics as m

Y_TRUE = np.array([0, 0, 1, 1, 2, 2, 2])
Y_PRED = np.array([0, 1, 1, 1, 2, 0, 2])


def test_accuracy_and_confusion_by_hand() -> None:
    assert m.accuracy(Y_TRUE, Y_PRED) == pytest.approx(5 / 7)
    expected = np.array([[1, 1, 0],
                         [0, 2, 0],
                         [1, 0, 2]])
    np.testing.assert_array_equal(m.confusion_matrix(Y_TRUE, Y_PRED, 3), expected)
    assert m.confusion_matrix(Y_TRUE, Y_PRED).shape == (3, 3)


def test_single_label_f1_and_uar_by_hand() -> None:
    # class 0: P=1/2 R=1/2 F1=1/2; class 1: P=2/3 R=1 F1=4/5; class 2: P=1 R=2/3 F1=4/5
    np.testing.assert_allclose(m.f1_per_class(Y_TRUE, Y_PRED), [0.5, 0.8, 0.8])
    assert m.macro_f1(Y_TRUE, Y_PRED) == pytest.approx((0.5 + 0.8 + 0.8) / 3)
    assert m.weighted_f1(Y_TRUE, Y_PRED) == pytest.approx((2 * 0.5 + 2 * 0.8 + 3 * 0.8) / 7)
    assert m.unweighted_average_recall(Y_TRUE, Y_PRED) == pytest.approx((0.5 + 1.0 + 2 / 3) / 3)
    # a class in ``labels`` that is never gold nor predicted counts as F1 0 in the macro mean
    assert m.macro_f1(Y_TRUE, Y_PRED, labels=[0, 1, 2, 3]) == pytest.approx(2.1 / 4)


def test_single_label_metrics_match_sklearn() -> None:
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    y_true = rng.integers(0, 5, 300)
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, 5, 300))
    assert m.accuracy(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert m.macro_f1(y_true, y_pred) == pytest.approx(sk.f1_score(y_true, y_pred, average="macro"))
    assert m.weighted_f1(y_true, y_pred) == pytest.approx(sk.f1_score(y_true, y_pred, average="weighted"))
    assert m.unweighted_average_recall(y_true, y_pred) == pytest.approx(
        sk.balanced_accuracy_score(y_true, y_pred))
    np.testing.assert_array_equal(m.confusion_matrix(y_true, y_pred, 5), sk.confusion_matrix(y_true, y_pred))


def test_multilabel_f1_matches_sklearn() -> None:
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(4)
    y_true = (rng.random((200, 6)) < 0.3).astype(int)
    y_pred = (rng.random((200, 6)) < 0.3).astype(int)
    assert m.macro_f1_multilabel(y_true, y_pred) == pytest.approx(
        sk.f1_score(y_true, y_pred, average="macro", zero_division=0))
    assert m.micro_f1_multilabel(y_true, y_pred) == pytest.approx(
        sk.f1_score(y_true, y_pred, average="micro", zero_division=0))


def test_calibration_error_by_hand() -> None:
    # bins of width 1/15; 0.10 -> bin 1, 0.90 -> bin 13, 0.95 -> bin 14
    confidence = np.array([0.10, 0.10, 0.90, 0.90, 0.95])
    outcome = np.array([0, 1, 1, 1, 0])
    # bin1: |0.5-0.1|*2, bin13: |1-0.9|*2, bin14: |0-0.95|*1 -> (0.8 + 0.2 + 0.95) / 5
    assert m.calibration_error(confidence, outcome) == pytest.approx(1.95 / 5)
    assert m.calibration_error(np.array([1.0, 0.0]), np.array([1, 0])) == pytest.approx(0.0)
    assert m.calibration_error(np.array([]), np.array([])) == 0.0


def test_ece_variants() -> None:
    probs = np.array([[0.7, 0.2, 0.1],
                      [0.4, 0.5, 0.1],
                      [0.1, 0.1, 0.8]])
    y = np.array([0, 0, 2])
    # top-label: confidences 0.7 (right), 0.5 (wrong), 0.8 (right): separate bins
    assert m.ece_top_label(probs, y) == pytest.approx((0.3 + 0.5 + 0.2) / 3)
    # multi-label: every (example, label) pair is one probability / outcome
    y_multi = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert m.ece_multilabel(probs, y_multi) == pytest.approx(
        m.calibration_error(probs.ravel(), y_multi.ravel()))


def test_brier_scores() -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.4, 0.5, 0.1]])
    y = np.array([0, 0])
    expected = ((0.3**2 + 0.2**2 + 0.1**2) + (0.6**2 + 0.5**2 + 0.1**2)) / 2
    assert m.brier_multiclass(probs, y) == pytest.approx(expected)
    y_multi = np.array([[1, 0, 0], [0, 1, 1]])
    assert m.brier_multilabel(probs, y_multi) == pytest.approx(((probs - y_multi) ** 2).mean())
    sk = pytest.importorskip("sklearn.metrics")
    p = np.array([0.1, 0.8, 0.6, 0.3])
    t = np.array([0, 1, 0, 1])
    assert m.brier_multilabel(p[:, None], t[:, None]) == pytest.approx(sk.brier_score_loss(t, p))


def test_pearson_and_ccc() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert m.pearson(x, 2 * x + 1) == pytest.approx(1.0)
    assert m.ccc(x, x) == pytest.approx(1.0)
    # same correlation, shifted mean: CCC penalises the bias, Pearson does not
    assert m.ccc(x, x + 1) == pytest.approx(2 * 1.25 / (1.25 + 1.25 + 1.0))


def test_bootstrap_ci_brackets_the_value_and_is_reproducible() -> None:
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 3, 400)
    y_pred = np.where(rng.random(400) < 0.7, y_true, rng.integers(0, 3, 400))
    low, high = m.bootstrap_ci(m.accuracy, y_true, y_pred, n_resamples=300)
    assert low < m.accuracy(y_true, y_pred) < high
    assert high - low < 0.15
    assert m.bootstrap_ci(m.accuracy, y_true, y_pred, n_resamples=300) == (low, high)
    with pytest.raises(ValueError):
        m.bootstrap_ci(m.accuracy, y_true, y_pred[:10])


def test_bagged_thresholds_average_bootstrap_fits() -> None:
    rng = np.random.default_rng(0)
    gold = np.zeros((400, 2), dtype=int)
    gold[:100, 0] = 1
    gold[::9, 1] = 1
    # label 0: positives score 0.6-0.9, negatives 0.0-0.3 -> every resample's best threshold lies in
    # the gap; label 1: pure noise -> resampled thresholds scatter and their mean is one of the grid's
    probs = np.column_stack([np.where(gold[:, 0] == 1, rng.uniform(0.6, 0.9, 400), rng.uniform(0.0, 0.3, 400)),
                             rng.uniform(0, 1, 400)])
    bagged = m.bagged_thresholds(gold, probs, n_boot=20, seed=3)
    assert bagged.shape == (2,)
    assert 0.29 <= bagged[0] <= 0.61
    np.testing.assert_allclose(bagged, m.bagged_thresholds(gold, probs, n_boot=20, seed=3))
    # one resample is one plain fit on those rows
    rows = np.random.default_rng(5).integers(0, 400, 400)
    np.testing.assert_allclose(m.bagged_thresholds(gold, probs, n_boot=1, seed=5),
                               m.best_thresholds(gold[rows], probs[rows]))
    with pytest.raises(ValueError, match="n_boot"):
        m.bagged_thresholds(gold, probs, n_boot=0)
