"""The Ray engine: the same work units, processed by a pool of model actors (Ray Data).

The driver plans the units that are not yet committed (it counts the rows of csv/jsonl
files once; parquet row counts come from the footer), builds a Ray Dataset of unit keys
and maps it with ``compute=ray.data.ActorPoolStrategy(size=N)``: each actor loads the model
once and, per unit, reads the unit's rows from the input, analyses them and commits the
shard with the same ``engine.process_unit`` the local engine uses.  So the output is the
same bytes as a local run, and a job may be resumed by either engine.

On a cluster, the input and ``--out`` must be visible at the same path on every node (a
shared filesystem) and affectlens must be installed in the workers' environment.  See
``docs/batch.md``.
"""

from __future__ import annotations

import math
import os
import pickle
import warnings
from collections.abc import Callable
from typing import Any

from affectlens.batch.engine import BatchWarning, JobSpec, process_unit, worker_pool
from affectlens.batch.manifest import committed_units, finished_sources, unit_info
from affectlens.batch.sources import RowBatch, Unit, count_rows, read_unit
from affectlens.inputs import InputError


class RayNotInstalled(ImportError):
    pass


def _import_ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise RayNotInstalled(
            "the ray engine needs Ray Data: pip install 'affectlens[ray]' (or pip install 'ray[data]')",
            name="ray",
        ) from exc
    return ray


def plan_pending_units(spec: JobSpec) -> tuple[list[tuple[int, int]], int, int]:
    """(units to process, units already done, input rows already done)."""
    done = committed_units(spec.out_dir)
    finished = finished_sources(done)
    pending: list[tuple[int, int]] = []
    rows_done = 0
    for source_index, source in enumerate(spec.sources):
        done_here = [k for (s, k) in done if s == source_index]
        rows_done += sum(unit_info(done[(source_index, k)]).rows for k in done_here)
        if source_index in finished:
            continue
        cols = spec.columns[source_index]
        n_units = 1 if cols is None else max(1, math.ceil(count_rows(source, cols) / spec.unit_rows))
        pending.extend((source_index, k) for k in range(n_units) if (source_index, k) not in done)
    return pending, len(done), rows_done


class UnitWorker:
    """A Ray actor: holds the model, processes the units of the batches it is given."""

    def __init__(self, spec: JobSpec, model: Any) -> None:
        from affectlens.runtime_threads import THREADS_ENV, parse_threads

        # actors on one node share its cores: each model gets the CPUs Ray gave its actor,
        # not every core of the node (unless AFFECTLENS_THREADS says otherwise)
        if parse_threads(os.environ.get(THREADS_ENV)) is None:
            os.environ[THREADS_ENV] = str(_assigned_cpus())
        self.spec = spec
        self.pool = worker_pool(spec, model)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        sources: list[int] = []
        units: list[int] = []
        rows: list[int] = []
        problems: list[str] = []
        for source_index, unit_index in zip(batch["source"], batch["unit"], strict=True):
            s, k = int(source_index), int(unit_index)
            cols = self.spec.columns[s]
            if cols is None:
                unit = Unit(s, 0, RowBatch([], [], [], {}), last=True)
            else:
                try:
                    unit = read_unit(s, self.spec.sources[s], cols, self.spec.unit_rows, k)
                except InputError:
                    continue  # the file ended early (a read error): its last unit says so
            info = process_unit(self.spec, self.pool, unit)
            file_errors = [e.reason for e in info.errors if e.row is None or e.reason.startswith("cannot read")]
            sources.append(s)
            units.append(k)
            rows.append(info.rows)
            problems.append("\n".join(file_errors))
        return {"source": np.asarray(sources, dtype=np.int64), "unit": np.asarray(units, dtype=np.int64),
                "rows": np.asarray(rows, dtype=np.int64), "problems": np.asarray(problems, dtype=object)}


def _assigned_cpus() -> int:
    """CPUs Ray assigned to this actor (1 outside an actor)."""
    try:
        import ray

        return max(1, int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1)))
    except Exception:  # not in a Ray worker, or an older Ray without the call
        return 1


def run_units_ray(
    spec: JobSpec,
    model: Any,
    *,
    workers: int | None = None,
    address: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> tuple[int, int]:
    """Process the pending units on Ray; returns (units found done, rows analysed now)."""
    ray = _import_ray()
    pending, resumed, rows_done = plan_pending_units(spec)
    if not pending:
        return resumed, 0
    started_ray = False
    if not ray.is_initialized():
        init_args: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                     "configure_logging": False}
        if address:
            init_args["address"] = address
        ray.init(**init_args)
        started_ray = True
    import logging

    logging.getLogger("ray.data").setLevel(logging.WARNING)  # its INFO lines would bury our progress bar
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        cpus = int(ray.cluster_resources().get("CPU", os.cpu_count() or 1))
        size = workers or max(1, cpus // 2)
        cpus_per_actor = max(1, cpus // size) if not workers else 1
        payload = model if model is None or isinstance(model, (str, bytes)) else pickle.dumps(model)
        keys = [{"source": s, "unit": k} for s, k in pending]
        dataset = ray.data.from_items(keys, override_num_blocks=min(len(keys), 4 * size))
        mapped = dataset.map_batches(
            UnitWorker,
            fn_constructor_args=(spec, payload),
            compute=ray.data.ActorPoolStrategy(size=size),
            batch_size=1,
            batch_format="numpy",
            num_cpus=cpus_per_actor,
        )
        total_rows = rows_done + sum(count_rows(spec.sources[s], c) for s, c in
                                     ((s, spec.columns[s]) for s in sorted({s for s, _ in pending}))
                                     if c is not None) if progress else None
        rows_now = 0
        for row in mapped.iter_rows():
            rows_now += int(row["rows"])
            for problem in str(row["problems"]).splitlines():
                warnings.warn(f"{problem} (recorded in errors.jsonl)", BatchWarning, stacklevel=2)
            if progress:
                progress(rows_done + rows_now, total_rows)
    finally:
        if started_ray:
            ray.shutdown()
    return resumed, rows_now
