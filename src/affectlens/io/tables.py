"""Tables of inputs (csv, tsv, jsonl, parquet), read in chunks so that size is no limit.

A table names the column that holds the inputs (``column``) and optionally a column of
record ids (``id_column``).  Rows come out in file order as ``TableRow``; a row whose
cell is missing keeps its place (``value=None``) so that nothing is silently dropped.
pandas / pyarrow are imported inside the readers, never at import time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affectlens.file_types import TABLE_FORMATS as TABLE_FORMATS  # re-exported: the one suffix table
from affectlens.file_types import is_table as is_table
from affectlens.inputs import InputError
from affectlens.io import EmptyInput, MissingColumn
from affectlens.io.text_checks import invalid_text

#: the column used when none is named and the table has more than one
DEFAULT_COLUMN = "text"
DEFAULT_CHUNK_ROWS = 10_000


@dataclass(frozen=True)
class TableRow:
    """One data row: ``number`` counts data rows from 1 (a header is not a row)."""

    number: int
    value: Any
    record_id: str | None
    problem: str | None = None  # a row that could not even be parsed (an invalid JSON line)


def table_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise InputError(f"{path} is not a table (supported: {', '.join(TABLE_FORMATS)})")
    return TABLE_FORMATS[suffix]


def choose_column(columns: Sequence[str], column: str | None, path: str | Path) -> str:
    """The requested column, else the only column, else a column called ``text``."""
    listed = ", ".join(repr(c) for c in columns) or "none"
    if column is not None:
        if column not in columns:
            raise MissingColumn(f"column {column!r} not found in {path} (columns: {listed})")
        return column
    if len(columns) == 1:
        return columns[0]
    if DEFAULT_COLUMN in columns:
        return DEFAULT_COLUMN
    raise MissingColumn(f"{path} has several columns; choose one with --column (columns: {listed})")


def record_id_of(value: Any) -> str | None:
    """A cell as a record id: ``None`` for a missing cell, integral floats without ``.0``."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    return str(value)


def _missing_to_none(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


class TableReader:
    """Streams the rows of one table; ``fraction_read()`` says how much of it is consumed."""

    def __init__(
        self,
        path: str | Path,
        *,
        column: str | None = None,
        id_column: str | None = None,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
    ) -> None:
        self.path = Path(path)
        self.format = table_format(self.path)
        self.chunk_rows = max(1, int(chunk_rows))
        self.columns: list[str] = self._read_columns()
        self.column = choose_column(self.columns, column, self.path)
        self.id_column = choose_column(self.columns, id_column, self.path) if id_column is not None else None
        self.total_rows: int | None = self._count_rows()
        self.total_bytes = self.path.stat().st_size
        self._bytes_read = 0
        self._rows_read = 0

    # -- schema ---------------------------------------------------------------------------
    def _read_columns(self) -> list[str]:
        if self.format == "parquet":
            import pyarrow.parquet as pq

            try:
                return list(pq.ParquetFile(self.path).schema_arrow.names)
            except Exception as exc:  # pyarrow raises several types for a bad file
                raise InputError(f"cannot read {self.path}: not a parquet file ({exc})") from exc
        if self.format == "jsonl":
            first = self._first_json_record()
            if first is None:
                raise EmptyInput(f"empty input: {self.path} has no rows")
            return list(first)
        import pandas as pd

        try:
            header = pd.read_csv(self.path, sep=self._separator, nrows=0, encoding="utf-8-sig",
                                 encoding_errors="surrogateescape")
        except pd.errors.EmptyDataError as exc:
            raise EmptyInput(f"empty input: {self.path} has no header and no rows") from exc
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise InputError(f"cannot read {self.path}: {exc}") from exc
        return [str(c) for c in header.columns]

    def _first_json_record(self) -> dict[str, Any] | None:
        with self.path.open("rb") as fh:
            for raw in fh:
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                except ValueError as exc:
                    raise InputError(f"cannot read {self.path}: first row is not valid JSON ({exc})") from exc
                if not isinstance(record, dict):
                    raise InputError(f"cannot read {self.path}: rows must be JSON objects")
                return record
        return None

    def _count_rows(self) -> int | None:
        if self.format == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(self.path).metadata.num_rows)
        return None  # csv / jsonl: unknown without a second pass; progress goes by bytes

    @property
    def _separator(self) -> str:
        return "\t" if self.format == "tsv" else ","

    # -- progress ---------------------------------------------------------------------------
    def fraction_read(self) -> float | None:
        """Share of the table consumed so far (by rows when known, else by bytes)."""
        if self.total_rows:
            return min(1.0, self._rows_read / self.total_rows)
        if self.total_bytes:
            return min(1.0, self._bytes_read / self.total_bytes)
        return None

    # -- rows -------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[TableRow]:
        rows = {"parquet": self._parquet_rows, "jsonl": self._jsonl_rows}.get(self.format, self._csv_rows)
        for row in rows():
            self._rows_read += 1
            yield row

    def _wanted(self) -> list[str]:
        return [self.column] if self.id_column in (None, self.column) else [self.column, str(self.id_column)]

    def _csv_rows(self) -> Iterator[TableRow]:
        import pandas as pd

        wanted = self._wanted()
        number = 0
        with self.path.open("rb") as fh:
            try:
                # every cell as a string; only a truly empty cell is missing ("NA" stays text)
                chunks = pd.read_csv(
                    fh,
                    sep=self._separator,
                    chunksize=self.chunk_rows,
                    usecols=wanted,
                    dtype=object,  # plain Python strings: arrow-backed str cannot hold the surrogates below
                    keep_default_na=False,
                    na_values=[""],
                    encoding="utf-8-sig",
                    # bytes that are not UTF-8 become lone surrogates, which valid text never holds:
                    # that row is reported, the rest of the table is read
                    encoding_errors="surrogateescape",
                )
                for chunk in chunks:
                    self._bytes_read = fh.tell()
                    texts = chunk[self.column].tolist()
                    ids = chunk[self.id_column].tolist() if self.id_column else [None] * len(texts)
                    for value, rid in zip(texts, ids, strict=True):
                        number += 1
                        if _has_undecodable_bytes(value) or _has_undecodable_bytes(rid):
                            bad_id = _has_undecodable_bytes(rid)
                            good_id = None if bad_id else record_id_of(rid)
                            problem = invalid_text(rid) if bad_id else invalid_text(value)
                            yield TableRow(number, None, good_id, problem=f"{'id: ' if bad_id else ''}{problem}")
                            continue
                        yield TableRow(number, _missing_to_none(value), record_id_of(rid))
            except (UnicodeDecodeError, pd.errors.ParserError) as exc:
                raise InputError(f"cannot read {self.path} after row {number}: {exc}") from exc
        self._bytes_read = self.total_bytes

    def _jsonl_rows(self) -> Iterator[TableRow]:
        number = 0
        with self.path.open("rb") as fh:
            for raw in fh:
                if not raw.strip():
                    continue  # blank lines are not rows
                number += 1
                self._bytes_read += len(raw)
                try:
                    record = json.loads(raw)
                except ValueError:
                    yield TableRow(number, None, None, problem="not valid JSON")
                    continue
                if not isinstance(record, dict):
                    yield TableRow(number, None, None, problem="not a JSON object")
                    continue
                rid = record_id_of(record.get(self.id_column)) if self.id_column else None
                yield TableRow(number, record.get(self.column), rid)
        self._bytes_read = self.total_bytes

    def _parquet_rows(self) -> Iterator[TableRow]:
        import pyarrow.parquet as pq

        number = 0
        parquet = pq.ParquetFile(self.path)
        for batch in parquet.iter_batches(batch_size=self.chunk_rows, columns=self._wanted()):
            texts = batch.column(self.column).to_pylist()
            ids = batch.column(self.id_column).to_pylist() if self.id_column else [None] * len(texts)
            for value, rid in zip(texts, ids, strict=True):
                number += 1
                yield TableRow(number, _missing_to_none(value), record_id_of(rid))


def _has_undecodable_bytes(value: Any) -> bool:
    return isinstance(value, str) and any("\udc80" <= ch <= "\udcff" for ch in value)


def open_table(
    path: str | Path,
    *,
    column: str | None = None,
    id_column: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> TableReader:
    """Check the table's columns now (clear errors up front) and stream its rows later."""
    return TableReader(path, column=column, id_column=id_column, chunk_rows=chunk_rows)
