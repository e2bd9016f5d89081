"""What every engine shares: planning a job, processing one work unit, finishing the output.

``plan_job`` checks everything it can before any work (inputs exist, every table has the
requested columns, the model loads, the output folder holds no other job) and returns a
picklable ``JobSpec``.  ``process_unit`` is the one function that turns a unit's rows into
a committed shard: the local engine calls it in a loop, Ray actors call it on their units.
So both engines produce the same bytes for the same unit.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from affectlens.batch.manifest import (
    UnitInfo,
    commit_shard,
    committed_units,
    finished_sources,
    input_fingerprints,
    prepare_output,
    write_errors,
    write_json_atomic,
)
from affectlens.batch.sources import (
    Columns,
    CorruptFile,
    ErrorRecord,
    ResolvedColumns,
    RowBatch,
    Source,
    Unit,
    discover,
    ignored_files,
    resolve_columns,
)
from affectlens.inputs import InputError
from affectlens.io import EmptyInput
from affectlens.result_schema import arrow_fields, segment_arrays
from affectlens.types import EmotionResult, Modality

DEFAULT_UNIT_ROWS = 4_096
DEFAULT_BATCH_SIZE = 4_096  # texts per recognizer call (= a unit): big chunks let the model bucket by length


class BatchWarning(UserWarning):
    """A file or rows that could not be analysed (recorded in errors.jsonl; the job goes on)."""


@dataclass(frozen=True)
class JobSpec:
    """Everything a worker needs to process units (picklable: sent to Ray actors)."""

    out_dir: Path
    sources: tuple[Source, ...]
    columns: tuple[ResolvedColumns | None, ...]  # None: the source failed before reading (see errors)
    source_errors: dict[int, str]
    label_names: tuple[str, ...]
    extra_names: tuple[str, ...]
    labels: str | None  # target label set (``--labels``)
    unit_rows: int
    batch_size: int
    keep_text: bool
    identity: dict[str, Any] = field(default_factory=dict)

    @property
    def mode(self) -> str:
        return "files" if self.sources and self.sources[0].kind == "files" else "table"


# -- planning ------------------------------------------------------------------------------------


def modalities_of(sources: Sequence[Source]) -> list[Modality]:
    from affectlens.processing import FILE_TYPES

    if sources and sources[0].kind == "files":
        found = {FILE_TYPES[Path(f).suffix.lower()].modality for f in sources[0].files
                 if Path(f).suffix.lower() in FILE_TYPES}
        return sorted(found, key=lambda m: m.value)
    return [Modality.TEXT]


def worker_pool(spec: JobSpec, model: Any) -> Any:
    """A worker's (Ray actor's, worker process's) ``RecognizerPool``, from a model name or a pickled
    recognizer, loaded for the job's modalities."""
    import pickle

    from affectlens.processing import RecognizerPool

    pool = RecognizerPool(pickle.loads(model) if isinstance(model, bytes) else model)
    with warnings.catch_warnings():  # the driver already warned about a modality it cannot load
        warnings.simplefilter("ignore")
        pool.load_available(modalities_of(spec.sources))
    return pool


def _label_names(recognizer: Any, labels: str | None) -> tuple[str, ...]:
    """The score columns: the target label set's labels, else the recognizer's."""
    from affectlens.taxonomy import UnknownLabelSet, get_label_set

    name = labels or recognizer.label_set
    try:
        return tuple(get_label_set(name).labels)
    except UnknownLabelSet:
        if labels:
            raise
    from affectlens.label_probe import probed_labels  # a label set outside the taxonomy: ask the model

    return probed_labels(recognizer)


def plan_job(
    input_path: str | Path,
    out_dir: str | Path,
    *,
    pool: Any,
    columns: Columns,
    labels: str | None = None,
    unit_rows: int = DEFAULT_UNIT_ROWS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    keep_text: bool = False,
    restart: bool = False,
) -> tuple[JobSpec, dict[str, Any]]:
    """Check inputs, columns, model and output folder; returns the spec and the manifest."""
    if unit_rows < 1 or batch_size < 1:
        raise ValueError("unit rows and batch size must be at least 1")
    if labels is not None:
        from affectlens.processing import check_label_set

        check_label_set(labels)
    sources = discover(input_path)
    skipped = ignored_files(input_path, sources)
    if skipped:
        warnings.warn(f"ignored {len(skipped)} file(s) that are not tables: {', '.join(skipped[:5])}"
                      + (" ..." if len(skipped) > 5 else ""), BatchWarning, stacklevel=2)
    if sources[0].kind == "files" and (columns.time or columns.groups or columns.id or columns.text):
        raise InputError("--column, --id, --time and --group apply to tables, not to a folder of files")
    resolved: list[ResolvedColumns | None] = []
    source_errors: dict[int, str] = {}
    for index, source in enumerate(sources):
        try:
            resolved.append(resolve_columns(source, columns))  # MissingColumn: stop before any work
        except (CorruptFile, EmptyInput) as exc:
            resolved.append(None)
            source_errors[index] = str(exc)
    if len(sources) == 1 and source_errors:
        raise InputError(source_errors[0])  # a single input that cannot be read at all is an error
    modalities = modalities_of(sources)
    recognizers = pool.load_available(modalities)
    label_names: tuple[str, ...] = ()
    for recognizer in recognizers:
        label_names += tuple(n for n in _label_names(recognizer, labels) if n not in label_names)
    model = [{"name": r.name, "version": r.version, "label_set": r.label_set} for r in recognizers]
    extra_names = tuple(columns.passthrough())
    identity = {
        "inputs": input_fingerprints(sources),
        "options": {
            "input": str(Path(input_path).expanduser().resolve()),
            "column": columns.text, "id": columns.id, "time": columns.time, "group": list(columns.groups),
            "labels": labels, "unit_rows": unit_rows, "keep_text": keep_text,
        },
        "model": model,
    }
    out = Path(out_dir).expanduser()
    manifest = prepare_output(out, identity, restart=restart)
    spec = JobSpec(out.resolve(), tuple(sources), tuple(resolved), source_errors, label_names, extra_names,
                   labels, unit_rows, batch_size, keep_text, identity)
    manifest["label_names"] = list(label_names)
    manifest["columns"] = {"time": columns.time, "groups": list(columns.groups), "id": columns.id,
                           "passthrough": list(extra_names)}
    return spec, manifest


# -- one unit ------------------------------------------------------------------------------------


def _segment_exclude(spec: JobSpec) -> tuple[str, ...]:
    """Segment columns the shard leaves out: the unit supplies source and record_id; text only on request."""
    return ("source", "record_id") if spec.keep_text else ("source", "record_id", "text")


def output_schema(spec: JobSpec) -> Any:
    """A shard's columns: where the row came from, the passthrough columns, the segment (``result_schema``),
    and ``error``."""
    import pyarrow as pa

    fields = [
        pa.field("source", pa.string()), pa.field("row", pa.int64()), pa.field("record_id", pa.string()),
        pa.field("segment", pa.int32()), *[pa.field(name, pa.string()) for name in spec.extra_names],
        *arrow_fields(spec.label_names, exclude=_segment_exclude(spec)), pa.field("error", pa.string()),
    ]
    return pa.schema(fields)


def _work_items(spec: JobSpec, unit: Unit) -> list[Any]:
    """The unit's inputs as work items, planned by the processing layer's public planner."""
    from affectlens.processing import WorkItem, file_item, row_where, text_item

    source = spec.sources[unit.source_index]
    batch = unit.batch
    items: list[Any] = []
    if source.kind == "files":
        return [file_item(source.path / rel, f"file {rel}", rel) for rel in batch.values]
    cols = spec.columns[unit.source_index]
    assert cols is not None
    problems = batch.problems or [None] * len(batch)
    for row, value, rid, problem in zip(batch.rows, batch.values, batch.ids, problems, strict=True):
        record_id: str | None = rid if cols.id else str(row)
        where = row_where(row, rid, bool(cols.id))
        if problem is not None:
            items.append(WorkItem(where, Modality.TEXT, None, record_id, source.name, problem))
        else:
            items.append(text_item(value, where, record_id, source.name))
    return items


def _reason(result: EmotionResult, where: str) -> str:
    reasons = [w[len(where) + 2:] if w.startswith(where + ": ") else w for w in result.warnings]
    return "; ".join(reasons) or "no result"


def build_table(
    spec: JobSpec, unit: Unit, items: Sequence[Any], results: Sequence[EmotionResult]
) -> tuple[Any, list[ErrorRecord]]:
    """The unit's output rows (one per segment; one error row per input without any) in bulk."""
    import pyarrow as pa

    source = spec.sources[unit.source_index]
    batch = unit.batch
    schema = output_schema(spec)
    take: list[int] = []  # output row -> unit row
    segment_index: list[int] = []
    segments: list[Any] = []
    errors: list[ErrorRecord] = list(batch.file_errors)
    error_col: list[str | None] = []
    for position, (item, result) in enumerate(zip(items, results, strict=True)):
        if result.segments:
            for s, seg in enumerate(result.segments):
                take.append(position)
                segment_index.append(s)
                segments.append(seg)
                error_col.append(None)
        else:
            reason = _reason(result, item.where)
            errors.append(ErrorRecord(source.name, batch.rows[position], item.record_id, reason))
            take.append(position)
            segment_index.append(0)
            segments.append(None)
            error_col.append(reason)
    n = len(take)
    ids = [items[p].record_id for p in take]
    data: dict[str, Any] = {
        "source": pa.array([source.name] * n, pa.string()),
        "row": pa.array([batch.rows[p] for p in take], pa.int64()),
        "record_id": pa.array(ids, pa.string()),
        "segment": pa.array(segment_index, pa.int32()),
    }
    for name in spec.extra_names:
        values = batch.extra.get(name, [])
        data[name] = pa.array([values[p] for p in take], pa.string())
    data.update(segment_arrays(segments, spec.label_names, exclude=_segment_exclude(spec)))
    data["error"] = pa.array(error_col, pa.string())
    return pa.table(data, schema=schema), errors


def process_unit(spec: JobSpec, pool: Any, unit: Unit) -> UnitInfo:
    """Analyse one unit and commit its shard (atomically); returns what the shard records."""
    from affectlens.processing import analyze_items

    started = time.perf_counter()
    source = spec.sources[unit.source_index]
    if spec.columns[unit.source_index] is None and source.kind != "files":
        why = spec.source_errors.get(unit.source_index, "cannot read the file")
        unit = Unit(unit.source_index, 0, RowBatch([], [], [], {}, None, [ErrorRecord(source.name, None, None, why)]),
                    last=True)
        items: list[Any] = []
        results: list[EmotionResult] = []
    else:
        items = _work_items(spec, unit)
        results = list(analyze_items(items, pool, labels=spec.labels, batch_size=spec.batch_size))
        if not items and not unit.batch.file_errors and unit.index == 0:
            empty = ErrorRecord(source.name, None, None, f"empty input: {source.name} has no rows")
            unit.batch.file_errors.append(empty)
    table, errors = build_table(spec, unit, items, results)
    rows = unit.batch.rows
    info = UnitInfo(
        unit.source_index, unit.index, source.name, rows[0] if rows else None, rows[-1] if rows else None,
        len(rows), table.num_rows, table.column("error").null_count, tuple(errors), unit.last,
        time.perf_counter() - started,
    )
    commit_shard(spec.out_dir, table, info)
    return info


def warn_file_errors(info: UnitInfo) -> None:
    """A warning for each file-level problem and one per unit for malformed rows (row problems are counted)."""
    malformed = 0
    for error in info.errors:
        if error.reason.startswith("malformed row"):
            malformed += 1
        elif error.row is None or error.reason.startswith("cannot read"):
            warnings.warn(f"{error.reason} (recorded in errors.jsonl)", BatchWarning, stacklevel=2)
    if malformed:
        warnings.warn(f"{info.source}: {malformed} malformed row(s) skipped (recorded in errors.jsonl)",
                      BatchWarning, stacklevel=2)


# -- finishing -----------------------------------------------------------------------------------


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def finalize(spec: JobSpec, manifest: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """Check that every unit is in place, write errors.jsonl and the complete manifest."""
    units = committed_units(spec.out_dir)
    finished = finished_sources(units)
    missing = [spec.sources[i].name for i in range(len(spec.sources)) if i not in finished]
    if missing:
        raise RuntimeError(f"batch incomplete: units missing for {', '.join(missing[:5])}; rerun to resume")
    infos, n_errors = write_errors(spec.out_dir, (path for _, path in sorted(units.items())))
    rows = sum(i.rows for i in infos)
    output_rows = sum(i.output_rows for i in infos)
    analysed = sum(i.analysed_rows for i in infos)
    run["finished"] = now_iso()
    manifest.setdefault("runs", []).append(run)
    processing_seconds = sum(i.seconds for i in infos)
    manifest.update({
        "status": "complete",
        "shards": [
            {"path": f"shards/{units[(i.source_index, i.unit_index)].name}", "source": i.source,
             "unit": i.unit_index, "rows": [i.first_row, i.last_row], "input_rows": i.rows,
             "output_rows": i.output_rows, "analysed_rows": i.analysed_rows, "errors": i.error_count}
            for i in infos
        ],
        "counts": {
            "sources": len(spec.sources), "shards": len(infos), "input_rows": rows,
            "output_rows": output_rows, "analysed_rows": analysed,
            "error_rows": output_rows - analysed, "errors": n_errors,
            "failed_sources": sorted(spec.sources[i].name for i in spec.source_errors),
        },
        "timings": {
            "runs": len(manifest["runs"]),
            "wall_seconds": round(sum(r.get("seconds", 0.0) for r in manifest["runs"]), 3),
            "unit_seconds": round(processing_seconds, 3),
            "rows_per_second": round(rows / processing_seconds, 1) if processing_seconds > 0 else None,
        },
    })
    write_json_atomic(spec.out_dir / "manifest.json", manifest)
    return manifest
