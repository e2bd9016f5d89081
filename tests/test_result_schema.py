from __future__ import annotations

import math

import pytest

from affectlens import result_schema
from affectlens.result_schema import (
    FLAT_CUES,
    arrow_fields,
    records_frame,
    result_rows,
    segment_arrays,
    segment_columns,
    segment_row,
)
from affectlens.types import Cue, EmotionResult, Modality, Segment
from result_samples import sample_segment as _segment


def _every_field() -> Segment:
    """A segment with every optional field set (a video face track in a dialogue, say)."""
    cues = tuple(Cue("prosody", f"cue {i}", w, "joy", time=(0.0, 1.0), value=2.0)
                 for i, w in enumerate((0.1, -0.9, 0.5, 0.3)))
    return _segment(cues=cues, start=1.5, end=3.25, turn=4, speaker="Ann", track_id=2, modality=Modality.FACE)


def test_every_segment_field_has_a_flat_rule() -> None:
    # a field added to types.Segment must be given columns in result_schema (or be declared JSON-only)
    assert result_schema.covered_fields() == result_schema.segment_field_names()


def test_scalar_arrow_types_come_from_the_annotations() -> None:
    import pyarrow as pa

    types = {f.name: f.type for f in arrow_fields(["joy"])}
    assert types["start"] == types["end"] == pa.float64()
    assert types["turn"] == types["track_id"] == pa.int64()
    assert types["speaker"] == types["text"] == types["record_id"] == pa.string()


def test_flat_rows_and_arrow_have_the_same_columns_in_the_same_order() -> None:
    seg = _segment()
    assert list(segment_row(seg)) == segment_columns(list(seg.scores))
    assert [f.name for f in arrow_fields(list(seg.scores))] == segment_columns(list(seg.scores))


def test_flat_row_flattens_scores_vad_and_cues() -> None:
    (row,) = result_rows(EmotionResult((_segment(),)))
    assert row["record_id"] == "r1" and row["top_label"] == "joy" and row["labels"] == "joy"
    assert row["score_joy"] == 0.7 and row["valence"] == 0.6
    assert row["cues"] == "happy" and row["warnings"] == ""
    assert row["recognizer"] == "dummy.keywords.v1@v1"


def test_flat_row_without_vad_has_nan() -> None:
    assert math.isnan(segment_row(_segment(vad=None))["valence"])


def test_flat_row_keeps_the_strongest_cues_by_magnitude() -> None:
    row = segment_row(_every_field())
    assert row["cues"] == "cue 1; cue 2; cue 3"  # |-0.9| > 0.5 > 0.3 > 0.1
    assert (row["turn"], row["speaker"], row["track_id"], row["start"]) == (4, "Ann", 2, 1.5)


def test_a_result_without_segments_keeps_one_row() -> None:
    empty = EmotionResult((), "t.csv", ("row 1: empty text",), "1")
    assert result_rows(empty) == [{"record_id": "1", "source": "t.csv", "warnings": "row 1: empty text"}]


def test_records_frame() -> None:
    pytest.importorskip("pandas")
    frame = records_frame([EmotionResult((_segment(), _segment(record_id="r2")))])
    assert list(frame["record_id"]) == ["r1", "r2"]
    assert "score_anger" in frame.columns


def test_arrow_arrays_hold_every_field() -> None:
    pa = pytest.importorskip("pyarrow")
    seg = _every_field()
    labels = ["joy", "anger", "neutral", "fear"]
    table = pa.table(segment_arrays([seg, None], labels))
    assert table.schema == pa.schema(arrow_fields(labels))
    full, empty = table.to_pylist()
    assert full["modality"] == "face" and full["labels"] == ["joy"] and full["top_label"] == "joy"
    assert (full["turn"], full["speaker"], full["track_id"], full["start"], full["end"]) == (4, "Ann", 2, 1.5, 3.25)
    assert full["score_fear"] is None and full["score_joy"] == pytest.approx(0.7)
    assert full["valence"] == pytest.approx(0.6) and full["recognizer"] == "dummy.keywords.v1@v1"
    assert [c["phrase"] for c in full["cues"]] == ["cue 1", "cue 2", "cue 3"]
    assert len(full["cues"]) == FLAT_CUES and full["cues"][0]["kind"] == "prosody"
    assert full["cues"][0]["weight"] == pytest.approx(-0.9)
    assert all(value is None for value in empty.values())


def test_arrow_arrays_leave_out_excluded_columns() -> None:
    pytest.importorskip("pyarrow")
    arrays = segment_arrays([_segment()], ["joy"], exclude=("source", "text"))
    assert "source" not in arrays and "text" not in arrays and "record_id" in arrays
