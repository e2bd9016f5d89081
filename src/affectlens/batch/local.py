"""The local engine: one process streams the input, unit by unit, and commits shards.

The input is read in Arrow record batches and handed to the recognizer in chunks of
``batch_size`` texts, so the per-row Python work stays small next to the model.  A large
job runs in parallel worker processes with single-thread models (``batch/processes.py``,
``workers``), which measured faster than one process whose model spans every core; a
small one stays in this process.  For more machines use ``engine="ray"``
(``ray_engine``): same units, same shards.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affectlens.batch.engine import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_UNIT_ROWS,
    JobSpec,
    finalize,
    now_iso,
    plan_job,
    process_unit,
    warn_file_errors,
)
from affectlens.batch.manifest import committed_units, finished_sources, job_lock, unit_info, write_json_atomic
from affectlens.batch.sources import Columns, Unit, estimate_rows, iter_units

#: progress callback: (rows done, rows expected or None)
BatchProgress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class BatchSummary:
    out_dir: Path
    manifest: dict[str, Any]
    rows_this_run: int  # rows analysed by this invocation (0 when it only found a finished job)
    seconds: float
    resumed_units: int  # units found done at start

    @property
    def counts(self) -> dict[str, Any]:
        return dict(self.manifest.get("counts", {}))


def run_batch(
    input_path: str | Path,
    out_dir: str | Path,
    *,
    model: Any = None,
    column: str | None = None,
    id_column: str | None = None,
    time_column: str | None = None,
    group_columns: tuple[str, ...] | list[str] = (),
    labels: str | None = None,
    unit_rows: int = DEFAULT_UNIT_ROWS,
    batch_size: int = DEFAULT_BATCH_SIZE,
    keep_text: bool = False,
    restart: bool = False,
    engine: str = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: BatchProgress | None = None,
) -> BatchSummary:
    """Analyse a corpus into Parquet shards in ``out_dir`` (resumable; see ``docs/batch.md``).

    Rerunning the same call after an interruption continues where it stopped; the final
    shards hold every input row exactly once.  Raises before any work for a missing
    input, a missing column, an unknown model or label set, or an output folder that holds
    another job (``restart=True`` clears it).
    """
    from affectlens.processing import RecognizerPool

    if engine not in ("local", "ray"):
        raise ValueError(f"unknown engine {engine!r} (choose local or ray)")
    columns = Columns(column, id_column, time_column, tuple(group_columns))
    out = Path(out_dir).expanduser()
    with job_lock(out):
        # pickled before the pool below loads it (a loaded model holds unpicklable sessions)
        model_for_workers = _model_for_workers(model) if engine == "ray" else _pickled_or_error(model)
        if isinstance(model_for_workers, ValueError) and workers is not None and workers > 1:
            raise model_for_workers
        pool = RecognizerPool(model)
        spec, manifest = plan_job(input_path, out, pool=pool, columns=columns, labels=labels,
                                  unit_rows=unit_rows, batch_size=batch_size, keep_text=keep_text, restart=restart)
        run: dict[str, Any] = {"started": now_iso(), "engine": engine}
        if manifest.get("status") != "complete":
            manifest["status"] = "running"
        write_json_atomic(spec.out_dir / "manifest.json", {**manifest, "runs": [*manifest.get("runs", []), run]})
        started = time.perf_counter()
        if engine == "ray":
            from affectlens.batch.ray_engine import run_units_ray

            resumed, rows = run_units_ray(spec, model_for_workers, workers=workers, address=address,
                                          progress=progress)
        else:
            processes = _local_workers(spec, model_for_workers, workers)
            run["workers"] = processes
            if processes > 1:
                from affectlens.batch.processes import run_units_processes

                del pool  # the workers hold their own models: let this one's memory go while they run
                resumed, rows = run_units_processes(spec, model_for_workers, workers=processes, progress=progress)
            else:
                resumed, rows = run_units_local(spec, pool, progress=progress)
        seconds = time.perf_counter() - started
        run.update({"seconds": round(seconds, 3), "rows": rows, "resumed_units": resumed})
        manifest = finalize(spec, manifest, run)
    return BatchSummary(spec.out_dir, manifest, rows, seconds, resumed)


def run_units_local(spec: JobSpec, pool: Any, *, progress: BatchProgress | None = None) -> tuple[int, int]:
    """Process every unit not yet committed; returns (units found done, rows analysed now)."""
    done = committed_units(spec.out_dir)
    finished = finished_sources(done)
    total = sum(estimate_rows(s) for s in spec.sources) if progress else None
    seen = 0
    rows_now = 0
    for source_index, source in enumerate(spec.sources):
        if source_index in finished:
            if progress:
                seen += sum(unit_info(p).rows for (s, _), p in done.items() if s == source_index)
                progress(seen, total)
            continue
        cols = spec.columns[source_index]
        if cols is None:  # unreadable from the start: one empty unit records why
            warn_file_errors(process_unit(spec, pool, Unit(source_index, 0, _no_rows(), last=True)))
            continue
        for unit in iter_units(source_index, source, cols, spec.unit_rows):
            if unit.key not in done:
                info = process_unit(spec, pool, unit)
                warn_file_errors(info)
                rows_now += info.rows
            seen += len(unit.batch)
            if progress:
                progress(seen, total)
    return len(done), rows_now


def _local_workers(spec: JobSpec, model_for_workers: Any, workers: int | None) -> int:
    """Worker processes of the local engine: as asked, else automatic (1 for a model that cannot be pickled)."""
    if workers is not None:
        return workers
    if isinstance(model_for_workers, ValueError):
        return 1  # an injected recognizer that cannot travel to another process: run it here
    from affectlens.batch.processes import auto_workers

    return auto_workers(spec)


def _pickled_or_error(model: Any) -> Any:
    """``_model_for_workers(model)``, or its error (raised only if parallel workers are asked for)."""
    try:
        return _model_for_workers(model)
    except ValueError as exc:
        return exc


def _model_for_workers(model: Any) -> Any:
    """What workers (Ray actors, processes) build their model from: a name, or the Recognizer pickled."""
    if model is None or isinstance(model, str):
        return model
    try:
        return pickle.dumps(model)
    except (TypeError, pickle.PicklingError) as exc:
        raise ValueError(
            f"parallel workers need a model name or a picklable, not yet loaded recognizer ({exc})"
        ) from exc


def _no_rows() -> Any:
    from affectlens.batch.sources import RowBatch

    return RowBatch([], [], [], {})
