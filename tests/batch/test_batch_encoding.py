"""A CSV row with bytes that are not UTF-8 becomes one error row; the rest of the file is analysed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from batch_helpers import read_output

from affectlens.batch import run_batch


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_invalid_utf8_row_is_an_error_row_not_a_lost_file(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"id,text\n1,I am so happy\n2,bad \xff\xfe bytes\n3,I hate this\n")
    run_batch(path, tmp_path / "out", model="dummy.keywords.v1", id_column="id")
    table = read_output(tmp_path / "out")
    assert table.column("record_id").to_pylist() == ["1", "2", "3"]
    assert table.column("top_label").to_pylist() == ["joy", None, "anger"]
    errors = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert errors == [{"file": "mixed.csv", "row": 2, "id": "2", "reason": "invalid UTF-8: byte 0xFF at byte offset 4"}]
