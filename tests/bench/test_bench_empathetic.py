"""The EmpatheticDialogues coverage bench: its reader and label views (tiny files made here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from affectlens.bench import empathetic


def _needs_label_set() -> None:
    try:
        empathetic.ed_labels()
    except empathetic.LabelSetMissing as exc:
        pytest.skip(str(exc))


def test_reader_takes_situation_and_first_turn(tmp_path: Path) -> None:
    folder = tmp_path / "empatheticdialogues"
    folder.mkdir()
    (folder / "test.csv").write_text(
        "conv_id,utterance_idx,speaker_role,emotion,situation,utterance\n"
        'hit:0_conv:0,1,speaker,guilty,"I hit a car, sadly.",I feel bad.\n'
        "hit:0_conv:0,2,listener,guilty,,Oh no\n"
        "hit:0_conv:1,1,speaker,proud,My son graduated,So proud!\n")
    rows = empathetic.load_ed("test", tmp_path)
    assert rows == [("hit:0_conv:0", "guilty", "I hit a car, sadly. I feel bad."),
                    ("hit:0_conv:1", "proud", "My son graduated So proud!")]


def test_ed_labels_and_coarse_view() -> None:
    _needs_label_set()
    labels = empathetic.ed_labels()
    assert len(labels) == 32 and "devastated" in labels
    assert empathetic.coarse_of("devastated") == "sadness"
    assert all(empathetic.coarse_of(label) in (None, "anger", "disgust", "fear", "joy", "sadness", "surprise",
                                               "neutral") for label in labels)


def test_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    from affectlens.bench.datasets import DatasetMissing

    with pytest.raises(DatasetMissing, match="EmpatheticDialogues"):
        empathetic.load_ed("test", tmp_path)
