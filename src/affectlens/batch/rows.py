"""The rows a batch job reads, as plain column lists: sources, row batches, work units, errors.

Shared by the table readers (``batch.sources`` and the CSV reader ``batch.csv_source``), so
neither imports the other for its types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from affectlens.inputs import InputError
from affectlens.io.tables import record_id_of


@dataclass(frozen=True)
class ErrorRecord:
    """One input that gave no result: a bad row, or a whole file that could not be read."""

    file: str
    row: int | None
    id: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "id": self.id, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ErrorRecord:
        return cls(data["file"], data.get("row"), data.get("id"), data["reason"])


@dataclass(frozen=True)
class Source:
    """One input table (or the list of files of a folder-of-files job)."""

    path: Path  # the file; for a folder of files, the folder
    name: str  # shown in output (``source`` column) and errors: relative to the input root
    kind: str  # "csv" | "tsv" | "jsonl" | "parquet" | "files"
    files: tuple[str, ...] = ()  # kind "files": the relative paths, sorted


@dataclass(frozen=True)
class Columns:
    """Which columns a job reads; ``text=None`` lets each table choose (only column, or ``text``)."""

    text: str | None = None
    id: str | None = None
    time: str | None = None
    groups: tuple[str, ...] = ()

    def passthrough(self) -> list[str]:
        """Columns copied to the output as text, in order, without duplicates."""
        names = [c for c in (self.time, *self.groups) if c is not None]
        return list(dict.fromkeys(names))


@dataclass
class RowBatch:
    """Rows of one source as column lists (cheap to slice and concatenate)."""

    rows: list[int]
    values: list[Any]  # the text cell, or the relative file path (folder of files)
    ids: list[str | None]
    extra: dict[str, list[str | None]]  # passthrough columns, as text
    problems: list[str | None] | None = None  # a row that could not be parsed (invalid JSON line)
    file_errors: list[ErrorRecord] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def empty(cls, extra_names: Sequence[str]) -> RowBatch:
        return cls([], [], [], {name: [] for name in extra_names}, None, [])

    def slice(self, start: int, stop: int) -> RowBatch:
        problems = self.problems[start:stop] if self.problems is not None else None
        extra = {k: v[start:stop] for k, v in self.extra.items()}
        return RowBatch(self.rows[start:stop], self.values[start:stop], self.ids[start:stop], extra, problems)

    def extend(self, other: RowBatch) -> None:
        if other.problems is not None or self.problems is not None:
            none: list[str | None] = [None]
            mine = self.problems if self.problems is not None else none * len(self.rows)
            theirs = other.problems if other.problems is not None else none * len(other.rows)
            self.problems = mine + theirs
        self.rows.extend(other.rows)
        self.values.extend(other.values)
        self.ids.extend(other.ids)
        for key, values in other.extra.items():
            self.extra.setdefault(key, []).extend(values)
        self.file_errors.extend(other.file_errors)


@dataclass
class Unit:
    """Work unit ``index`` of source ``source_index``: its rows, and whether it ends the source."""

    source_index: int
    index: int
    batch: RowBatch
    last: bool

    @property
    def key(self) -> tuple[int, int]:
        return (self.source_index, self.index)


class CorruptFile(InputError):
    """A table that cannot be opened at all (recorded as an error; the job goes on)."""


@dataclass(frozen=True)
class ResolvedColumns:
    """The columns one source really reads (the text column chosen, names checked)."""

    text: str
    id: str | None
    extra: tuple[str, ...]

    def wanted(self) -> list[str]:
        return list(dict.fromkeys([self.text, *([self.id] if self.id else []), *self.extra]))


def delimiter(source: Source) -> str:
    return "\t" if source.kind == "tsv" else ","


def one_line(value: object) -> str:
    return " ".join(str(value).split())


def as_text(values: list[Any]) -> list[str | None]:
    return [record_id_of(v) if not isinstance(v, str) else v for v in values]


def arrow_text_column(column: Any) -> list[str | None]:
    """An Arrow column as text (timestamps in ISO 8601, integral floats without ``.0``)."""
    import pyarrow as pa

    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return list(column.to_pylist())
    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        return as_text(column.to_pylist())
    try:
        return list(column.cast(pa.string()).to_pylist())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return [None if v is None else str(v) for v in column.to_pylist()]


def batch_from_arrow(table: Any, cols: ResolvedColumns, first_row: int) -> RowBatch:
    n = table.num_rows
    values = table.column(cols.text).to_pylist()
    ids: list[str | None] = arrow_text_column(table.column(cols.id)) if cols.id else [None] * n
    extra = {name: arrow_text_column(table.column(name)) for name in cols.extra}
    return RowBatch(list(range(first_row, first_row + n)), values, ids, extra)


def failure(source: Source, next_row: int, exc: BaseException) -> RowBatch:
    batch = RowBatch.empty([])
    where = "" if next_row == 1 else f" from row {next_row} on"
    batch.file_errors.append(
        ErrorRecord(source.name, next_row if next_row > 1 else None, None,
                    f"cannot read {source.name}{where}: {one_line(exc)}")
    )
    return batch
