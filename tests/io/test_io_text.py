from __future__ import annotations

from pathlib import Path

import pytest

from affectlens.inputs import InputError
from affectlens.io import EmptyInput
from affectlens.io.text import read_text_file, read_text_item


def test_whole_file_is_one_document(tmp_path: Path) -> None:
    path = tmp_path / "letter.txt"
    path.write_text("\ufeffDear Ann,\nI miss you.\n\n", encoding="utf-8")
    assert read_text_file(path) == "Dear Ann,\nI miss you."
    item = read_text_item(path, record_id="x")
    assert item.source == str(path) and item.record_id == "x"


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("  \n", encoding="utf-8")
    with pytest.raises(EmptyInput, match="empty input"):
        read_text_file(path)


@pytest.mark.parametrize("data", [b"\xff\xfe\xfa not utf8", b"\x00\x01\x02binary"])
def test_unreadable_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(InputError, match="cannot read"):
        read_text_file(path)
