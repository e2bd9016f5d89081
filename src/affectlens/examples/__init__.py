"""Small example inputs shipped with the package (``path("reviews.csv")``)."""

from __future__ import annotations

from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """The path of a shipped example file (``sentences.txt``, ``reviews.csv``, ``reviews.jsonl``)."""
    found = EXAMPLES_DIR / name
    if not found.is_file():
        names = ", ".join(
            sorted(p.name for p in EXAMPLES_DIR.iterdir() if p.suffix in {".txt", ".csv", ".jsonl"})
        )
        raise FileNotFoundError(f"no example named {name!r} (examples: {names})")
    return found
