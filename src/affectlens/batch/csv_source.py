"""CSV and TSV sources read with pyarrow: the header, then the rows in batches, bytes decoded row by row.

Imported by ``batch.sources`` when a CSV/TSV file is read (pyarrow loads there, not at import).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from affectlens.batch.rows import (
    CorruptFile,
    ErrorRecord,
    ResolvedColumns,
    RowBatch,
    Source,
    batch_from_arrow,
    delimiter,
    failure,
    one_line,
)
from affectlens.io.text_checks import decode_utf8, invalid_text

_CSV_BLOCK_BYTES = 1 << 20


def csv_header(source: Source) -> list[str]:
    """The header of a CSV/TSV file; ``CorruptFile`` when it cannot be parsed."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    try:
        with _quiet_undecodable_rows():
            reader = pcsv.open_csv(
                source.path,
                read_options=pcsv.ReadOptions(block_size=1 << 16),
                parse_options=pcsv.ParseOptions(delimiter=delimiter(source), newlines_in_values=True,
                                                invalid_row_handler=lambda row: "skip"),  # rows: recorded later
                convert_options=pcsv.ConvertOptions(column_types={}, strings_can_be_null=True),
            )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise CorruptFile(f"cannot read {source.name}: {one_line(exc)}") from exc
    return [str(name) for name in reader.schema.names]


def csv_batches(source: Source, cols: ResolvedColumns, batch_rows: int) -> Iterator[RowBatch]:
    """The rows of a CSV/TSV file (see ``sources.iter_row_batches``): a bad row fails alone."""
    invalid: list[ErrorRecord] = []

    def on_invalid_row(row: Any) -> str:
        text = row.text if len(row.text) <= 80 else row.text[:77] + "..."
        invalid.append(ErrorRecord(
            source.name, None, None,
            f"malformed row skipped ({row.actual_columns} fields, expected {row.expected_columns}): {text!r}",
        ))
        return "skip"

    wanted = cols.wanted()
    next_row = 1
    try:
        with _quiet_undecodable_rows():
            reader = _open_csv_rows(source, wanted, on_invalid_row)
        while True:
            with _quiet_undecodable_rows():  # per read, not across the yield below
                try:
                    record_batch = reader.read_next_batch()
                except StopIteration:
                    break
            table, problems = _decode_utf8(record_batch)
            batch = batch_from_arrow(table, cols, next_row)
            if problems is not None:
                batch.problems = problems
            next_row += len(batch)
            batch.file_errors.extend(invalid)
            invalid.clear()
            yield batch
    except Exception as exc:
        broken = failure(source, next_row, exc)
        broken.file_errors[:0] = invalid
        yield broken
        return
    if invalid:
        tail = RowBatch.empty(cols.extra)
        tail.file_errors.extend(invalid)
        yield tail


def _open_csv_rows(source: Source, wanted: list[str], on_invalid_row: Callable[[Any], str]) -> Any:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    return pcsv.open_csv(
        source.path,
        read_options=pcsv.ReadOptions(block_size=_CSV_BLOCK_BYTES),
        parse_options=pcsv.ParseOptions(
            delimiter=delimiter(source), newlines_in_values=True, invalid_row_handler=on_invalid_row
        ),
        # every cell as text; only a truly empty cell is missing ("NA" stays text)
        convert_options=pcsv.ConvertOptions(
            include_columns=wanted,
            # read as bytes: a row with invalid UTF-8 must fail alone, not the whole file
            column_types=dict.fromkeys(wanted, pa.binary()),
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            null_values=[""],
        ),
    )


@contextmanager
def _quiet_undecodable_rows() -> Iterator[None]:
    """Keep pyarrow's "Exception ignored ... Traceback" off stderr for a malformed row that is not UTF-8.

    pyarrow decodes a malformed row's bytes to text (strictly) before it calls the
    ``invalid_row_handler``; for bytes that are not UTF-8 that raises inside Cython, which
    prints a traceback through ``sys.unraisablehook`` and then fails the read with a CSV
    parse error, which is what names the file in ``errors.jsonl``.  Only that one
    exception type is silenced, only while pyarrow reads.
    """
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, UnicodeDecodeError):
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def _decode_utf8(record_batch: Any) -> tuple[Any, list[str | None] | None]:
    """Binary CSV columns as text: one cast when all is UTF-8, else row by row with the bad rows named."""
    import pyarrow as pa

    try:
        return pa.table([col.cast(pa.string()) for col in record_batch.columns], names=record_batch.schema.names), None
    except pa.ArrowInvalid:
        pass
    problems: list[str | None] = [None] * record_batch.num_rows
    columns = []
    for col in record_batch.columns:
        decoded: list[str | None] = []
        for row, raw in enumerate(col.to_pylist()):
            try:
                decoded.append(None if raw is None else raw.decode("utf-8"))
            except UnicodeDecodeError:
                decoded.append(None)
                # the same message as every other surface (``io.text_checks``), naming the byte offset
                problems[row] = invalid_text(decode_utf8(raw)) or "invalid UTF-8"
        columns.append(pa.array(decoded, type=pa.string()))
    return pa.table(columns, names=record_batch.schema.names), problems
