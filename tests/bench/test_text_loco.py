"""``benchmarks/text_loco.py``: the bench's Ekman scoring of torch logits and the paired LOCO differences."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np

from affectlens.bench.datasets import GOEMOTIONS_LABELS
from affectlens.bench.xcorpus_data import EKMAN7, CorpusTexts

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "text_loco.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("text_loco", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _isear(gold: list[str]) -> CorpusTexts:
    return CorpusTexts("isear", [f"text {i}" for i in range(len(gold))], gold,
                       np.array([EKMAN7.index(g) for g in gold]), [str(i) for i in range(len(gold))])


def test_logits_are_grouped_into_the_classes_the_corpus_can_hold() -> None:
    loco = _script()
    logits = np.full((3, len(GOEMOTIONS_LABELS)), -6.0, dtype=np.float32)
    logits[0, GOEMOTIONS_LABELS.index("joy")] = 3.0
    logits[1, GOEMOTIONS_LABELS.index("grief")] = 3.0
    logits[2, GOEMOTIONS_LABELS.index("neutral")] = 3.0  # ISEAR holds no neutral: the next best group wins
    logits[2, GOEMOTIONS_LABELS.index("fear")] = -1.0
    predicted = loco.ekman_predictions(logits, _isear(["joy", "sadness", "fear"]))
    assert [EKMAN7[i] for i in predicted] == ["joy", "sadness", "fear"]


def test_the_paired_difference_is_zero_for_equal_predictions_and_signed_otherwise() -> None:
    loco = _script()
    gold = ["joy", "sadness", "fear", "anger", "disgust"] * 8
    data = _isear(gold)
    right = data.ekman.copy()
    wrong = np.roll(right, 1)
    same = loco.paired_difference(data, right, right, 200)
    assert same["difference"] == 0.0 and same["interval"] == (0.0, 0.0)
    better = loco.paired_difference(data, right, wrong, 200)
    assert better["difference"] > 0.5 and better["interval"][0] > 0.0
    assert loco.paired_difference(data, wrong, right, 200)["difference"] == -better["difference"]
