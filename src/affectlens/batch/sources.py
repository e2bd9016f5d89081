"""What a batch job reads: input discovery, up-front column checks, streaming readers, work units.

A job reads either **tables** (csv / tsv / jsonl / parquet files, or a folder of them) or a
**folder of files** (every file one input, dispatched by ``processing.FILE_TYPES``).  Both
become *sources* whose rows are numbered from 1; a folder of files is one source whose
rows are the files in sorted order.  Each source is cut into deterministic **work units**
of ``unit_rows`` rows: unit ``k`` of source ``i`` holds rows ``k*unit_rows+1 ..
(k+1)*unit_rows``.  The same input and ``unit_rows`` always give the same units, which is
what makes resuming exact.

Rows are read in Arrow record batches (pyarrow csv / parquet readers) and handed on as
plain column lists; nothing is loaded whole.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from affectlens.batch.rows import Columns as Columns  # re-exported
from affectlens.batch.rows import CorruptFile as CorruptFile  # re-exported
from affectlens.batch.rows import ErrorRecord as ErrorRecord  # re-exported
from affectlens.batch.rows import ResolvedColumns as ResolvedColumns  # re-exported
from affectlens.batch.rows import RowBatch as RowBatch  # re-exported
from affectlens.batch.rows import Source as Source  # re-exported
from affectlens.batch.rows import Unit as Unit  # re-exported
from affectlens.batch.rows import batch_from_arrow, failure, one_line
from affectlens.inputs import InputError
from affectlens.io import EmptyInput, InputNotFound, MissingColumn, UnsupportedInput
from affectlens.io.tables import TABLE_FORMATS, choose_column, record_id_of
from affectlens.io.walk import describe_skipped, list_files

READ_BATCH_ROWS = 8_192
FILES_SOURCE = "(files)"  # the kind of the one source of a folder-of-files job


# -- discovery -----------------------------------------------------------------------------------


def _visible_files(root: Path, *, warn: bool = True) -> list[Path]:
    """The folder's files by the one walk policy (``io.walk``); what it cannot use is warned about."""
    listing = list_files(root)
    if warn and listing.skipped:
        warnings.warn(describe_skipped(listing.skipped, root), UserWarning, stacklevel=3)
    return listing.files


def discover(input_path: str | Path) -> list[Source]:
    """The sources of ``input_path``: one table, the tables of a folder, or a folder of files.

    A folder that holds tables is a folder of tables (other files in it are ignored with
    a warning by the caller); a folder without tables is a folder of files.
    """
    root = Path(input_path).expanduser()
    if not root.exists():
        raise InputNotFound(f"file not found: {root}")
    if root.is_file():
        suffix = root.suffix.lower()
        if suffix not in TABLE_FORMATS:
            raise UnsupportedInput(
                f"{root} is not a table; batch reads {', '.join(sorted(TABLE_FORMATS))} files, "
                "or a folder of them, or a folder of media/document files"
            )
        return [Source(root.resolve(), root.name, TABLE_FORMATS[suffix])]
    files = _visible_files(root)
    if not files:
        raise EmptyInput(f"empty input: folder {root} holds no files")
    tables = [p for p in files if p.suffix.lower() in TABLE_FORMATS]
    if tables:
        return [
            Source(p.resolve(), p.relative_to(root).as_posix(), TABLE_FORMATS[p.suffix.lower()]) for p in tables
        ]
    relative = tuple(p.relative_to(root).as_posix() for p in files)
    return [Source(root.resolve(), root.name or str(root), "files", relative)]


def ignored_files(input_path: str | Path, sources: Sequence[Source]) -> list[str]:
    """Files in a folder of tables that are not tables (they are skipped)."""
    root = Path(input_path).expanduser()
    if not root.is_dir() or (sources and sources[0].kind == "files"):
        return []
    used = {s.name for s in sources}
    relative = (p.relative_to(root).as_posix() for p in _visible_files(root, warn=False))
    return [rel for rel in relative if rel not in used]


# -- schema checks -------------------------------------------------------------------------------


def table_columns(source: Source) -> list[str]:
    """The column names of a table; ``CorruptFile`` / ``EmptyInput`` when it cannot be read."""
    if source.kind == "parquet":
        import pyarrow.parquet as pq

        try:
            return list(pq.ParquetFile(source.path).schema_arrow.names)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise CorruptFile(f"cannot read {source.name}: not a valid parquet file ({one_line(exc)})") from exc
    if source.kind == "jsonl":
        with source.path.open("rb") as fh:
            for raw in fh:
                if not raw.strip():
                    continue
                try:
                    record = json.loads(raw)
                except ValueError as exc:
                    raise CorruptFile(f"cannot read {source.name}: first row is not valid JSON ({exc})") from exc
                if not isinstance(record, dict):
                    raise CorruptFile(f"cannot read {source.name}: rows must be JSON objects")
                return [str(k) for k in record]
        raise EmptyInput(f"empty input: {source.name} has no rows")
    if source.path.stat().st_size == 0:
        raise EmptyInput(f"empty input: {source.name} is an empty file (no header, no rows)")
    from affectlens.batch.csv_source import csv_header

    return csv_header(source)


def resolve_columns(source: Source, columns: Columns) -> ResolvedColumns:
    """Check that ``source`` has every requested column (``MissingColumn`` names the file)."""
    if source.kind == "files":
        return ResolvedColumns("path", None, ())
    names = table_columns(source)
    listed = ", ".join(repr(c) for c in names) or "none"
    text = choose_column(names, columns.text, source.name)
    for role, name in (("--id", columns.id), ("--time", columns.time), *(("--group", g) for g in columns.groups)):
        if name is not None and name not in names:
            raise MissingColumn(f"column {name!r} ({role}) not found in {source.name} (columns: {listed})")
    return ResolvedColumns(text, columns.id, tuple(columns.passthrough()))


# -- readers -------------------------------------------------------------------------------------


def iter_row_batches(source: Source, cols: ResolvedColumns, batch_rows: int = READ_BATCH_ROWS) -> Iterator[RowBatch]:
    """The rows of ``source`` in order, as ``RowBatch``es; a read failure ends the stream with an error.

    An unreadable file or the unreadable rest of a file becomes a ``file_errors`` entry on
    the last batch, never an exception: one bad file must not stop a corpus.
    """
    if source.kind == "parquet":
        for unit in iter_units(0, source, cols, batch_rows):
            yield unit.batch
        return
    from affectlens.batch.csv_source import csv_batches

    reader = {"jsonl": _jsonl_batches, "files": _files_batches}.get(source.kind, csv_batches)
    yield from reader(source, cols, batch_rows)


def _jsonl_batches(source: Source, cols: ResolvedColumns, batch_rows: int) -> Iterator[RowBatch]:
    next_row = 1
    batch = RowBatch.empty(cols.extra)
    batch.problems = []
    try:
        with source.path.open("rb") as fh:
            for raw in fh:
                if not raw.strip():
                    continue  # blank lines are not rows
                problem: str | None = None
                try:
                    record = json.loads(raw)
                except ValueError:
                    record, problem = {}, "not valid JSON"
                if not isinstance(record, dict):
                    record, problem = {}, "not a JSON object"
                batch.rows.append(next_row)
                batch.values.append(record.get(cols.text))
                batch.ids.append(record_id_of(record.get(cols.id)) if cols.id else None)
                for name in cols.extra:
                    value = record.get(name)
                    batch.extra[name].append(value if isinstance(value, str) or value is None else str(value))
                batch.problems.append(problem)
                next_row += 1
                if len(batch) >= batch_rows:
                    yield batch
                    batch = RowBatch.empty(cols.extra)
                    batch.problems = []
    except OSError as exc:
        if len(batch):
            yield batch
        yield failure(source, next_row, exc)
        return
    if len(batch):
        yield batch


def _files_batches(source: Source, cols: ResolvedColumns, batch_rows: int) -> Iterator[RowBatch]:
    for start in range(0, len(source.files), batch_rows):
        names = list(source.files[start : start + batch_rows])
        rows = list(range(start + 1, start + 1 + len(names)))
        yield RowBatch(rows, names, list(names), {})


# -- units ---------------------------------------------------------------------------------------


class _ParquetUnits:
    """Units of a parquet file read by row group (random access: a Ray worker reads only its own).

    Unit ``k`` is rows ``k*unit_rows+1 .. (k+1)*unit_rows`` by the footer's row counts.  A row
    group that cannot be decoded becomes an error naming its rows; the other groups are read.
    """

    def __init__(self, source_index: int, source: Source, cols: ResolvedColumns, unit_rows: int) -> None:
        import pyarrow.parquet as pq

        self.source_index, self.source, self.cols, self.unit_rows = source_index, source, cols, unit_rows
        self.file = pq.ParquetFile(source.path)
        metadata = self.file.metadata
        self.groups: list[tuple[int, int]] = []  # 0-based [start, end) rows of each row group
        offset = 0
        for g in range(metadata.num_row_groups):
            rows = metadata.row_group(g).num_rows
            self.groups.append((offset, offset + rows))
            offset += rows
        self.num_rows = offset
        self.n_units = max(1, -(-offset // unit_rows))
        self._cached: tuple[int, Any] | None = None  # the last row group read (units share groups)

    def _group(self, g: int) -> Any:
        if self._cached is None or self._cached[0] != g:
            self._cached = (g, self.file.read_row_group(g, columns=self.cols.wanted()))
        return self._cached[1]

    def unit(self, k: int) -> Unit:
        low, high = k * self.unit_rows, min((k + 1) * self.unit_rows, self.num_rows)
        batch = RowBatch.empty(self.cols.extra)
        for g, (start, end) in enumerate(self.groups):
            if end <= low or start >= high:
                continue
            a, b = max(start, low), min(end, high)
            try:
                table = self._group(g)
            except Exception as exc:  # a damaged page: record it, read the other groups
                batch.file_errors.append(ErrorRecord(
                    self.source.name, a + 1, None,
                    f"cannot read rows {a + 1}-{b} of {self.source.name} (row group {g}): {one_line(exc)}",
                ))
                continue
            batch.extend(batch_from_arrow(table.slice(a - start, b - a), self.cols, a + 1))
        return Unit(self.source_index, k, batch, last=k == self.n_units - 1)


def iter_units(
    source_index: int, source: Source, cols: ResolvedColumns, unit_rows: int
) -> Iterator[Unit]:
    """The work units of one source, in order; the last one says so (``last=True``).

    A source with no rows still gives one (empty) unit, so that every source ends in a
    committed unit.  File-level errors travel with the unit being filled when they occur.
    """
    if source.kind == "parquet":
        units = _ParquetUnits(source_index, source, cols, unit_rows)
        for k in range(units.n_units):
            yield units.unit(k)
        return
    pending = RowBatch.empty(cols.extra)
    index = 0
    batches = iter_row_batches(source, cols, min(unit_rows, READ_BATCH_ROWS))
    ahead = next(batches, None)
    while ahead is not None:
        current, ahead = ahead, next(batches, None)
        pending.extend(current)
        while len(pending) > unit_rows or (len(pending) == unit_rows and ahead is not None):
            head = pending.slice(0, unit_rows)
            head.file_errors = pending.file_errors
            rest = pending.slice(unit_rows, len(pending))
            yield Unit(source_index, index, head, last=False)
            index += 1
            pending = rest
    yield Unit(source_index, index, pending, last=True)


def count_rows(source: Source, cols: ResolvedColumns) -> int:
    """Exact row count (parquet: metadata; others: one streaming pass)."""
    if source.kind == "files":
        return len(source.files)
    if source.kind == "parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(source.path).metadata.num_rows)
        except Exception:
            return 0
    return sum(len(b) for b in iter_row_batches(source, cols))


def estimate_rows(source: Source) -> int:
    """A quick row estimate for progress bars (parquet metadata, else newline count)."""
    if source.kind == "files":
        return len(source.files)
    if source.kind == "parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(source.path).metadata.num_rows)
        except Exception:
            return 0
    lines = 0
    with source.path.open("rb") as fh:
        while block := fh.read(1 << 22):
            lines += block.count(b"\n")
    return max(0, lines - (0 if source.kind == "jsonl" else 1))


def read_unit(source_index: int, source: Source, cols: ResolvedColumns, unit_rows: int, index: int) -> Unit:
    """Unit ``index`` of a source alone (Ray workers): parquet by row group, csv/jsonl streamed up to it."""
    if source.kind == "parquet":
        units = _ParquetUnits(source_index, source, cols, unit_rows)
        if index < units.n_units:
            return units.unit(index)
    else:
        for unit in iter_units(source_index, source, cols, unit_rows):
            if unit.index == index:
                return unit
    raise InputError(f"{source.name} has no work unit {index} (did the file change?)")
