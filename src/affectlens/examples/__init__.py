"""Small example inputs shipped with the package (``path("reviews.csv")``)."""

from __future__ import annotations

from pathlib import Path

from affectlens.file_types import TABLE_FORMATS, TEXT_SUFFIXES

EXAMPLES_DIR = Path(__file__).resolve().parent
INPUT_SUFFIXES = frozenset({*TEXT_SUFFIXES, *TABLE_FORMATS})


def path(name: str) -> Path:
    """The path of a shipped example file (``sentences.txt``, ``reviews.csv``, ``reviews.jsonl``)."""
    found = EXAMPLES_DIR / name
    if not found.is_file():
        names = ", ".join(
            sorted(p.name for p in EXAMPLES_DIR.iterdir() if p.suffix in INPUT_SUFFIXES)
        )
        raise FileNotFoundError(f"no example named {name!r} (examples: {names})")
    return found
