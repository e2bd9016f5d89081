"""Corpus-scale batch analysis: resumable, exactly-once Parquet shards, DuckDB analytics.

``run_batch`` (``affectlens batch``) turns tables (csv, tsv, jsonl, parquet, or a folder of
them) or a folder of media files into Parquet shards plus a manifest; ``build_report``
(``affectlens report``) aggregates those shards with DuckDB.  See ``docs/batch.md``.

Heavy modules (pyarrow, duckdb, ray, matplotlib) load inside the functions that use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from affectlens.batch.local import BatchSummary, run_batch
    from affectlens.batch.report import build_report

__all__ = ["BatchSummary", "build_report", "run_batch"]


def __getattr__(name: str) -> Any:
    if name in ("run_batch", "BatchSummary"):
        from affectlens.batch import local

        return getattr(local, name)
    if name == "build_report":
        from affectlens.batch.report import build_report

        return build_report
    raise AttributeError(name)
