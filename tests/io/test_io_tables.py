from __future__ import annotations

from pathlib import Path

import pytest

from affectlens.io import EmptyInput, MissingColumn
from affectlens.io.tables import open_table, record_id_of

ROWS = [{"id": f"r{i}", "text": f"text number {i}", "other": i} for i in range(7)]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_rows_in_order_with_ids(table_writer, suffix: str) -> None:  # type: ignore[no-untyped-def]
    reader = open_table(table_writer(f"t{suffix}", ROWS), column="text", id_column="id", chunk_rows=2)
    rows = list(reader)
    assert [r.value for r in rows] == [r["text"] for r in ROWS]
    assert [r.record_id for r in rows] == [r["id"] for r in ROWS]
    assert [r.number for r in rows] == list(range(1, 8))
    assert reader.fraction_read() == pytest.approx(1.0)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_missing_column_lists_columns(table_writer, suffix: str) -> None:  # type: ignore[no-untyped-def]
    path = table_writer(f"t{suffix}", ROWS)
    with pytest.raises(MissingColumn, match=r"column 'body' not found .*'text'"):
        open_table(path, column="body")
    with pytest.raises(MissingColumn, match="column 'key' not found"):
        open_table(path, column="text", id_column="key")


def test_default_column(table_writer) -> None:  # type: ignore[no-untyped-def]
    assert open_table(table_writer("t.csv", ROWS)).column == "text"
    assert open_table(table_writer("one.csv", [{"body": "x"}])).column == "body"
    with pytest.raises(MissingColumn, match="choose one with --column"):
        open_table(table_writer("two.csv", [{"a": "x", "b": "y"}]))


def test_csv_keeps_na_like_text_and_marks_empty_cells(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('text\nNA\n""\nNone\n', encoding="utf-8")
    assert [r.value for r in open_table(path)] == ["NA", None, "None"]


def test_jsonl_bad_lines_keep_their_place(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "a"}\n\n{oops\n[1, 2]\n{"text": 5}\n{"other": 1}\n', encoding="utf-8")
    rows = list(open_table(path))
    assert [r.number for r in rows] == [1, 2, 3, 4, 5]
    assert [r.problem for r in rows] == [None, "not valid JSON", "not a JSON object", None, None]
    assert [r.value for r in rows] == ["a", None, None, 5, None]


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_empty_tables(tmp_path: Path, content: str) -> None:
    for name in ("e.csv", "e.jsonl"):
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        with pytest.raises(EmptyInput):
            open_table(path)


def test_record_ids() -> None:
    assert record_id_of(3.0) == "3" and record_id_of(float("nan")) is None and record_id_of(7) == "7"
    assert record_id_of(None) is None and record_id_of("a") == "a" and record_id_of(2.5) == "2.5"


def test_csv_row_with_invalid_utf8_is_reported_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"id,text\n1,fine\n2,bad \xff\xfe bytes\n3,also fine\n007,leading zeros stay\n")
    rows = list(open_table(path, column="text", id_column="id"))
    assert [r.number for r in rows] == [1, 2, 3, 4]
    assert rows[1].problem == "invalid UTF-8: byte 0xFF at byte offset 4" and rows[1].record_id == "2"
    assert [r.value for r in rows if not r.problem] == ["fine", "also fine", "leading zeros stay"]
    assert rows[3].record_id == "007"
