from __future__ import annotations

import numpy as np
import pytest

from affectlens.bench.datasets import MELD_LABELS, DatasetMissing, data_root, load_meld
from affectlens.bench.tasks import ModelOutput, get_task
from affectlens.types import VAD, EmotionResult, Modality, Provenance, Segment


def _meld_or_skip(split: str) -> list:
    try:
        return load_meld(split)
    except DatasetMissing:
        pytest.skip(f"MELD not found under {data_root()}")


@pytest.mark.data
def test_meld_official_split_sizes_and_labels() -> None:
    sizes = {"train": 9989, "dev": 1109, "test": 2610}
    for split, n in sizes.items():
        rows = _meld_or_skip(split)
        assert len(rows) == n
        assert {r.emotion for r in rows} <= set(MELD_LABELS)
    test = _meld_or_skip("test")
    assert len({r.dialogue_id for r in test}) == 280
    assert all("\x92" not in r.text for r in test)
    assert test[0].start is not None and test[0].end is not None and test[0].end >= test[0].start


@pytest.mark.data
def test_meld_task_reads_dialogue_order() -> None:
    _meld_or_skip("dev")
    data = get_task("meld").load("dev", limit=20)
    assert len(data) == 20 and data.inputs[0].speaker and data.inputs[0].turn == 0


def test_meld_task_scores_grouped_top_labels() -> None:
    task = get_task("meld")
    gold = np.array([MELD_LABELS.index(x) for x in ("joy", "anger", "neutral")])

    def result(scores: dict[str, float]) -> EmotionResult:
        top = max(scores, key=lambda k: scores[k])
        return EmotionResult((Segment(Modality.TEXT, "goemotions", scores, (top,), VAD(0, 0, 0), 1.0,
                                      Provenance("t", "1")),))

    out = ModelOutput([result({"amusement": 0.9, "neutral": 0.1}), result({"annoyance": 0.8, "neutral": 0.2}),
                       result({"neutral": 0.7, "joy": 0.3})], "goemotions")
    from affectlens.bench.tasks import TaskData

    evaluation = task.evaluate(TaskData([None] * 3, gold, ["a", "b", "c"], "x"), out)
    assert evaluation.values["weighted_f1"] == pytest.approx(1.0)
    assert evaluation.values["weighted_f1_summed"] == pytest.approx(1.0)
