"""Formatters: results -> a Rich table, JSON, JSON lines, CSV or Parquet.

Every writer consumes an iterator and writes as it goes (Parquet in row groups), so an
input larger than memory produces output larger than memory.  Flat formats (CSV,
Parquet) have one row per segment plus a ``warnings`` column, in the columns that
``result_schema`` derives from ``types.py`` (flat rows for CSV, Arrow columns for Parquet);
an input that produced no segment still gets one row (its id, source and warnings), so
output rows never silently go missing.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from affectlens.label_colors import label_color
from affectlens.result_schema import SCORE_PREFIX, arrow_fields, iter_result_rows, result_rows, segment_arrays
from affectlens.timeline import render_results
from affectlens.types import SCHEMA_VERSION, EmotionResult, Segment, StreamedResult

__all__ = ["FORMATS", "ColumnMismatch", "format_for_path", "label_color", "render_table", "result_rows",
           "write_csv", "write_json", "write_jsonl", "write_parquet", "write_results"]

FORMATS: tuple[str, ...] = ("table", "json", "jsonl", "csv", "parquet")
_SUFFIX_FORMATS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".txt": "table",
}
_PARQUET_GROUP_ROWS = 2_000  # rows per row group (about: whole results are not split, streamed ones are)
_CSV_SCHEMA_ROWS = 1_000  # rows looked at to fix the CSV header when early inputs gave no segment

def format_for_path(path: str | Path) -> str | None:
    """The output format a file name implies (``out.csv`` -> ``csv``), if any."""
    return _SUFFIX_FORMATS.get(Path(path).suffix.lower())


# -- flat rows -----------------------------------------------------------------------------------


def _columns_from(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Column order: the first full row's keys (``result_schema.segment_columns`` order), then any others."""
    columns: list[str] = []
    seen: set[str] = set()
    full = [r for r in rows if "label_set" in r]
    for row in chain(full, rows):
        for key in row:
            if key not in seen:
                seen.add(key)
                columns.append(key)
    if "warnings" in seen:  # keep warnings last
        columns.remove("warnings")
        columns.append("warnings")
    return columns


#: what the writers take: whole results, or videos streamed segment by segment (``types.StreamedResult``)
Result = EmotionResult | StreamedResult


def _rows(results: Iterable[Result]) -> Iterator[dict[str, Any]]:
    for result in results:
        yield from iter_result_rows(result)


def _json_parts(result: Result) -> Iterator[str]:
    """One result's JSON object, in pieces: a streamed one segment by segment, its warnings last."""
    if isinstance(result, EmotionResult):
        yield result.to_json()
        return
    fields = EmotionResult((), result.source, (), result.record_id).to_dict()  # the schema's own keys
    del fields["segments"], fields["warnings"]
    yield json.dumps(fields, ensure_ascii=False)[:-1] + ', "segments": ['
    for n, segment in enumerate(result):
        yield (", " if n else "") + json.dumps(segment.to_dict(), ensure_ascii=False)
    yield '], "warnings": ' + json.dumps(list(result.warnings), ensure_ascii=False) + "}"


def _whole(results: Iterable[Result]) -> Iterator[EmotionResult]:
    """Streamed results read whole, for the writers that need them so (the table)."""
    for result in results:
        yield result.collect() if isinstance(result, StreamedResult) else result


def _pieces(results: Iterable[Result], size: int) -> Iterator[EmotionResult]:
    """Whole results as they are; a streamed one as results of at most ``size`` segments (no warnings)
    and, when it has warnings or no segment, a last empty one with them (its placeholder row)."""
    for result in results:
        if isinstance(result, EmotionResult):
            yield result
            continue
        stream = iter(result)
        while piece := tuple(islice(stream, size)):
            yield EmotionResult(piece, result.source, (), result.record_id)
        if result.warnings or result.count == 0:
            yield EmotionResult((), result.source, result.warnings, result.record_id)


class ColumnMismatch(UserWarning):
    """Later rows have columns the first rows lacked (e.g. a mix of label sets)."""


def _warn_new_columns(extra: set[str]) -> None:
    import warnings

    warnings.warn(
        f"output columns fixed by the first rows; dropped new columns {sorted(extra)} "
        "(use --format jsonl for inputs that mix label sets)",
        ColumnMismatch,
        stacklevel=3,
    )


# -- writers -------------------------------------------------------------------------------------


def write_jsonl(results: Iterable[Result], fh: IO[str]) -> int:
    count = 0
    for result in results:
        for part in _json_parts(result):
            fh.write(part)
        fh.write("\n")
        count += 1
    return count


def write_json(results: Iterable[Result], fh: IO[str]) -> int:
    """One JSON document ``{"schema_version": ..., "results": [...]}``, written as it goes."""
    fh.write(f'{{"schema_version": {json.dumps(SCHEMA_VERSION)}, "results": [')
    count = 0
    for result in results:
        fh.write(",\n  " if count else "\n  ")
        for part in _json_parts(result):
            fh.write(part)
        count += 1
    fh.write("\n]}\n" if count else "]}\n")
    return count


def write_csv(results: Iterable[Result], fh: IO[str]) -> int:
    rows = _rows(results)
    head = list(islice(rows, _CSV_SCHEMA_ROWS))
    while head and not any("label_set" in r for r in head):  # wait for a real row to fix the header
        more = list(islice(rows, _CSV_SCHEMA_ROWS))
        if not more:
            break
        head.extend(more)
    columns = _columns_from(head)
    writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    count = 0
    warned = False
    for row in chain(head, rows):
        extra = set(row) - set(columns)
        if extra and not warned:
            _warn_new_columns(extra)
            warned = True
        writer.writerow({k: ("" if _is_nan(v) else v) for k, v in row.items()})
        count += 1
    return count


def _label_names(results: Sequence[EmotionResult]) -> list[str]:
    """The score columns of a Parquet file: every label of the first results, in order of appearance."""
    names: dict[str, None] = {}
    for result in results:
        for seg in result.segments:
            names.update(dict.fromkeys(seg.scores))
    return list(names)


def _parquet_table(group: Sequence[EmotionResult], schema: Any) -> tuple[Any, set[str]]:
    """One row group: ``result_schema``'s segment columns, ``record_id``/``source`` with the result's as
    fallback (an input without segments keeps a row), and ``warnings``; also the labels left out."""
    import pyarrow as pa

    label_names = [n[len(SCORE_PREFIX):] for n in schema.names if n.startswith(SCORE_PREFIX)]
    segments: list[Segment | None] = []
    record_ids: list[str | None] = []
    sources: list[str | None] = []
    warnings: list[str] = []
    for result in group:
        joined = "; ".join(result.warnings)
        for seg in result.segments or (None,):
            segments.append(seg)
            record_ids.append(seg.record_id if seg and seg.record_id is not None else result.record_id)
            sources.append(seg.source if seg else result.source)
            warnings.append(joined)
    dropped = {SCORE_PREFIX + label for seg in segments if seg for label in seg.scores} - set(schema.names)
    data = segment_arrays(segments, label_names, exclude=("record_id", "source"))
    data.update(record_id=pa.array(record_ids, pa.string()), source=pa.array(sources, pa.string()),
                warnings=pa.array(warnings, pa.string()))
    return pa.table({name: data[name] for name in schema.names}, schema=schema), dropped


def _row_groups(results: Iterable[Result]) -> Iterator[list[EmotionResult]]:
    """Results in groups of about ``_PARQUET_GROUP_ROWS`` rows (a streamed video cut into pieces)."""
    group: list[EmotionResult] = []
    rows = 0
    for piece in _pieces(results, _PARQUET_GROUP_ROWS):
        group.append(piece)
        rows += max(1, len(piece.segments))
        if rows >= _PARQUET_GROUP_ROWS:
            yield group
            group, rows = [], 0
    if group:
        yield group


def write_parquet(results: Iterable[Result], path: str | Path) -> int:
    """Parquet in row groups of about ``_PARQUET_GROUP_ROWS`` rows: the Arrow columns of ``result_schema``
    (labels and cues as lists) plus ``warnings``; the score columns come from the first group with a
    segment (as the CSV header: early inputs without a result do not fix them)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    groups = _row_groups(results)
    head: list[list[EmotionResult]] = []
    for group in groups:
        head.append(group)
        if any(result.segments for result in group):
            break
    label_names = _label_names([result for group in head for result in group])
    schema = pa.schema([*arrow_fields(label_names), pa.field("warnings", pa.string())])
    count = 0
    warned = False
    # an input without results still gets a valid file with the columns
    with pq.ParquetWriter(str(path), schema) as writer:
        for group in chain(head, groups):
            table, dropped = _parquet_table(group, schema)
            if dropped and not warned:
                _warn_new_columns(dropped)
                warned = True
            writer.write_table(table)
            count += table.num_rows
    return count


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


# -- the Rich table ------------------------------------------------------------------------------


def highlight_text(text: str, segment: Segment, *, max_chars: int = 400) -> Text:
    """The text with each positive cue's span coloured by the label it supports."""
    shown = text if len(text) <= max_chars else text[: max_chars - 1] + "…"
    rich_text = Text(shown)
    for cue in segment.cues:
        if cue.span is None or cue.weight <= 0:
            continue
        start, end = cue.span
        if start >= len(shown):
            continue
        color = label_color(cue.label) if cue.label else "bold"
        rich_text.stylize(f"bold {color} underline", start, min(end, len(shown)))
    return rich_text


def _bar(value: float | None, width: int = 10) -> Text:
    """A centred bar for a value in [-1, 1]: left of the middle is negative."""
    if value is None or _is_nan(value):
        return Text("—", style="dim")
    value = max(-1.0, min(1.0, value))
    half = width // 2
    filled = round(abs(value) * half)
    left = "·" * (half - filled if value < 0 else half)
    right = "·" * (half - filled if value > 0 else half)
    text = Text(f"{value:+.2f} ")
    text.append(left, style="dim")
    if value < 0:
        text.append("█" * filled, style="red")
    text.append("│", style="dim")
    if value > 0:
        text.append("█" * filled, style="green")
    text.append(right, style="dim")
    return text


def _labels_cell(segment: Segment, top_k: int) -> Text:
    cell = Text()
    ranked = sorted(segment.scores.items(), key=lambda kv: -kv[1])[:top_k]
    for i, (label, score) in enumerate(ranked):
        if i:
            cell.append("\n")
        style = label_color(label) + (" bold" if label in segment.labels else " dim")
        cell.append(f"{label} {score:.2f}", style=style)
    return cell


def _cues_cell(segment: Segment, limit: int = 3) -> Text:
    # one cue per line: the phrase already names its label and weight
    cell = Text()
    ordered = sorted((c for c in segment.cues if c.weight > 0), key=lambda c: -c.weight)[:limit]
    for i, cue in enumerate(ordered):
        if i:
            cell.append("\n")
        cell.append(cue.phrase, style=label_color(cue.label) if cue.label else "")
    return cell


def _new_table() -> Table:
    table = Table(show_lines=True, expand=False)
    table.add_column("id", style="bold", no_wrap=True, max_width=24)
    table.add_column("text (cue words highlighted)", ratio=3, min_width=20)
    table.add_column("emotions", no_wrap=True)
    table.add_column("valence / arousal", no_wrap=True)
    table.add_column("conf", justify="right")
    table.add_column("cues", ratio=1)
    return table


def _id_of(result: EmotionResult, segment: Segment | None, position: int) -> str:
    for candidate in (
        segment.record_id if segment else None,
        result.record_id,
        segment.source if segment else None,
        result.source,
    ):
        if candidate:
            return str(candidate)
    return str(position)


def _body(segment: Segment) -> Text:
    """What the row is about: the text with its cue words, else which voice stretch or face it is."""
    if segment.text:
        body = highlight_text(segment.text, segment)
        if segment.speaker:  # a dialogue turn: who said it
            turn = f" #{segment.turn}" if segment.turn is not None else ""
            body = Text.assemble((f"{segment.speaker}{turn}: ", "bold"), body)
        return body
    name = Path(segment.source).name if segment.source else ""
    what = {"speech": "voice", "face": "face", "fused": "text + voice + face"}.get(segment.modality.value,
                                                                                segment.modality.value)
    if segment.track_id is not None:
        what += f" (track {segment.track_id})"
    return Text(f"{what} in {name}" if name else what, style="italic")


def wide_console() -> Console:
    """A console for tables: the terminal's width, or 140 columns when piped or captured
    (Rich's 80-column default would squeeze the cue and metric columns)."""
    console = Console()
    return console if console.is_terminal else Console(width=140)


def render_table(
    results: Iterable[EmotionResult], console: Console, *, top_k: int = 3, rows_per_table: int = 50
) -> int:
    """Print results as Rich tables of ``rows_per_table`` results each (streams)."""
    count = 0
    iterator = iter(results)
    while chunk := list(islice(iterator, rows_per_table)):
        table = _new_table()
        for result in chunk:
            count += 1
            if not result.segments:
                why = "; ".join(result.warnings) or "no result"
                table.add_row(_id_of(result, None, count), Text(f"⚠ {why}", style="yellow"), "", "", "", "")
                continue
            for segment in result.segments:
                body = _body(segment)
                if segment.start is not None:
                    body.append(f"  [{segment.start:.2f}–{segment.end or segment.start:.2f} s]", style="dim")
                vad = segment.vad
                bars = Text.assemble(
                    "V ", _bar(vad.valence if vad else None), "\nA ", _bar(vad.arousal if vad else None)
                )
                table.add_row(
                    _id_of(result, segment, count),
                    body,
                    _labels_cell(segment, top_k),
                    bars,
                    f"{segment.confidence:.2f}",
                    _cues_cell(segment),
                )
            for warning in result.warnings:
                table.add_row("", Text(f"⚠ {warning}", style="yellow"), "", "", "", "")
        console.print(table)
    return count


# -- one entry point -----------------------------------------------------------------------------


def write_results(
    results: Iterable[Result],
    fmt: str,
    out: str | Path | None = None,
    *,
    console: Console | None = None,
    append: bool = False,
) -> int:
    """Write ``results`` in ``fmt`` to ``out`` (a path) or stdout; returns the number written.

    ``parquet`` needs ``out``.  ``table`` written to a file is plain text.  ``append`` (JSON
    Lines to a file only) adds to what ``out`` holds, for resumed runs.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    if append and (fmt != "jsonl" or out is None):
        raise ValueError("appending to earlier results needs --format jsonl and --out PATH")
    if fmt == "parquet":
        if out is None:
            raise ValueError("parquet output needs --out PATH (it is binary)")
        return write_parquet(results, out)
    if out is None:
        if fmt == "table":
            return render_results(_whole(results), console or wide_console(), render_table)
        return _TEXT_WRITERS[fmt](results, sys.stdout)
    with Path(out).open("a" if append else "w", encoding="utf-8", newline="") as fh:
        if fmt == "table":
            plain = Console(file=fh, width=140, no_color=True, force_terminal=False)
            return render_results(_whole(results), plain, render_table)
        return _TEXT_WRITERS[fmt](results, fh)


_TEXT_WRITERS: dict[str, Callable[[Iterable[Result], IO[str]], int]] = {
    "json": write_json,
    "jsonl": write_jsonl,
    "csv": write_csv,
}
