"""Helpers for the batch tests: small corpora in every table format, reading a batch output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TEXTS = (
    "I am so happy and glad today",
    "This is disgusting, I hate it",
    "I am scared and worried",
    "Wow, what a surprise",
    "I miss her, so sad and lonely",
    "The meeting is at noon",
)


def corpus_rows(n: int, prefix: str = "r", bad_every: int = 0) -> list[dict[str, Any]]:
    """``n`` rows with unique ids, a day, a group; every ``bad_every``-th text is missing."""
    rows = []
    for i in range(n):
        text: str | None = TEXTS[i % len(TEXTS)]
        if bad_every and i % bad_every == bad_every - 1:
            text = None
        rows.append({"id": f"{prefix}{i}", "text": text, "day": f"2024-03-{1 + i % 14:02d}",
                     "forum": "abc"[i % 3]})
    return rows


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    suffix = path.suffix
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=97)
    else:
        import csv

        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter="\t" if suffix == ".tsv" else ",")
            writer.writeheader()
            writer.writerows(rows)
    return path


#: ``run_batch`` options for ``mixed_corpus``: its columns, and units small enough to make several
MIXED_CORPUS_OPTIONS: dict[str, Any] = {"id_column": "id", "time_column": "day", "group_columns": ["forum"],
                                        "unit_rows": 32}


def mixed_corpus(folder: Path) -> Path:
    """``folder/corpus``: 90 CSV rows (every 9th text missing), 70 Parquet rows and a broken Parquet file."""
    corpus = folder / "corpus"
    corpus.mkdir()
    write_rows(corpus / "a.csv", corpus_rows(90, "a", bad_every=9))
    write_rows(corpus / "b.parquet", corpus_rows(70, "b"))
    (corpus / "c.parquet").write_bytes(b"broken")
    return corpus


def read_output(out: Path) -> Any:
    """Every shard of a batch output as one Arrow table, sorted by (source, row, segment)."""
    import pyarrow.dataset as ds

    table = ds.dataset(str(out / "shards"), format="parquet").to_table()
    return table.sort_by([("source", "ascending"), ("row", "ascending"), ("segment", "ascending")])
