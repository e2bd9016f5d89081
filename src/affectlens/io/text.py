"""Plain-text documents: a ``.txt`` (or ``.md``) file is ONE document, never one text per line.

To analyse one text per line, use a table (``.csv``/``.jsonl``) with a text column.
"""

from __future__ import annotations

from pathlib import Path

from affectlens.file_types import TEXT_SUFFIXES as TEXT_SUFFIXES  # re-exported: the one suffix table
from affectlens.inputs import InputError, TextItem
from affectlens.io import EmptyInput
from affectlens.io.text_checks import is_blank


def read_text_file(path: str | Path) -> str:
    """The whole file as one string (UTF-8, a BOM is dropped), surrounding whitespace stripped.

    Raises ``InputError`` for a file that is not UTF-8 text and ``EmptyInput`` for one
    that holds only whitespace.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if b"\x00" in raw[:4096]:
        raise InputError(f"cannot read {path}: binary data, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start]
        raise InputError(f"cannot read {path}: invalid UTF-8: byte 0x{bad:02X} at byte offset {exc.start}") from exc
    text = text.strip()
    if is_blank(text):  # also only NULs or zero-width characters (``io.text_checks``)
        raise EmptyInput(f"empty input: {path} holds no text")
    return text


def read_text_item(path: str | Path, *, record_id: str | None = None) -> TextItem:
    """A text document as a ``TextItem`` whose ``source`` is the path."""
    return TextItem(read_text_file(path), record_id=record_id, source=str(path))
