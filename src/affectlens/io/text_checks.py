"""What counts as empty text and as text that is not valid Unicode: defined once, used by every surface.

* **Empty**: a text with no character that carries content, i.e. only whitespace, control
  characters (NUL, ...) and invisible format characters (zero-width space and joiners,
  word joiner, BOM, soft hyphen).  It is reported like whitespace-only text: "empty text".
* **Invalid UTF-8**: bytes that are not UTF-8 reach Python as lone surrogates (argv, stdin
  and CSV cells are decoded with ``surrogateescape``; a JSON string may hold a ``\\udXXX``
  escape).  Such a text is NOT analysed (no guessing what the bytes meant): the input gets
  an error naming the UTF-8 byte offset of the first bad character, e.g.
  ``invalid UTF-8: byte 0xFF at byte offset 5``.  A single input is an error (CLI exit 2,
  ``InputError`` in the library); a row, file or list element gets an empty result / error
  row with that message, and the run goes on.
"""

from __future__ import annotations

import unicodedata

EMPTY_TEXT = "empty text"

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def is_blank(text: str) -> bool:
    """True when ``text`` holds nothing to analyse (whitespace, NULs, zero-width characters only)."""
    return all(ch.isspace() or unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in text)


def invalid_text(text: str) -> str | None:
    """Why ``text`` is not valid Unicode text (naming the byte offset), or ``None`` when it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        start = exc.start
        offset = len(text[:start].encode("utf-8"))  # everything before the first bad character encodes
        code = ord(text[start])
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by ``surrogateescape``
            return f"invalid UTF-8: byte 0x{code - 0xDC00:02X} at byte offset {offset}"
        return f"invalid text: lone surrogate U+{code:04X} at byte offset {offset}"
    return None


def text_problem(text: str) -> str | None:
    """The one check every text input goes through: ``EMPTY_TEXT``, an invalid-UTF-8 message, or ``None``."""
    invalid = invalid_text(text)
    if invalid is not None:
        return invalid
    return EMPTY_TEXT if is_blank(text) else None


def decode_utf8(raw: bytes) -> str:
    """Bytes as text, a leading BOM dropped; bytes that are not UTF-8 stay visible to ``invalid_text``."""
    return raw.decode("utf-8-sig", errors="surrogateescape")
