"""``benchmarks/text_dev_compare.py``: dev figures of text-model weights (no test split read)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

from affectlens.bench.datasets import GOEMOTIONS_LABELS
from affectlens.bench.xcorpus_data import EKMAN7, CorpusTexts

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("text_dev_compare", BENCHMARKS / "text_dev_compare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:  # the script puts its own folder first on the path to import text_loco
        if str(BENCHMARKS) in sys.path:
            sys.path.remove(str(BENCHMARKS))
    return module


def test_an_ekman_corpus_is_scored_over_its_own_classes_by_the_bench_grouping() -> None:
    compare = _script()
    gold = ["joy", "sadness", "fear", "disgust", "anger"]  # ISEAR's five Ekman classes
    data = CorpusTexts("isear", [f"t{i}" for i in range(5)], gold, np.array([EKMAN7.index(g) for g in gold]),
                       [str(i) for i in range(5)])
    logits = np.full((5, len(GOEMOTIONS_LABELS)), -6.0, dtype=np.float32)
    for row, label in enumerate(("admiration", "grief", "nervousness", "disgust", "neutral")):
        logits[row, GOEMOTIONS_LABELS.index(label)] = 3.0
    # the last text reads as neutral, which ISEAR cannot hold: its next group (anger, from annoyance) wins
    logits[4, GOEMOTIONS_LABELS.index("annoyance")] = 0.0
    assert compare.ekman_dev_macro_f1(logits, data) == 1.0
    logits[4, GOEMOTIONS_LABELS.index("annoyance")] = -6.0
    logits[4, GOEMOTIONS_LABELS.index("remorse")] = 0.0  # now sadness: anger is missed
    assert compare.ekman_dev_macro_f1(logits, data) < 1.0


def test_cross_fitted_goemotions_dev_figure_is_not_above_the_in_sample_one_on_noise() -> None:
    compare = _script()
    rng = np.random.default_rng(0)
    gold = (rng.random((200, len(GOEMOTIONS_LABELS))) < 0.1).astype(int)
    logits = rng.normal(size=gold.shape).astype(np.float32)  # no signal: tuned thresholds only overfit
    figures = compare.goemotions_dev_figures(gold, logits)
    assert set(figures) == {"ge_in", "ge_cross"}
    assert figures["ge_cross"] < figures["ge_in"]
