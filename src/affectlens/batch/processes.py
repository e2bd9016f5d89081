"""Parallel worker processes for the local engine: N processes, one model each, few threads each.

Why: one onnxruntime pool over every core loses time in its hand-overs between the cores
(and spin-waits beside anything else); single-thread models side by side do not.  On the
2-core machine two 1-thread processes gave 223 + 221 texts/s where one 2-thread process
gave 325 (issue #21 item 11; ``benchmarks/thread_layout.py`` prints the current figures).

The parent streams the input exactly as the single-process engine does (``iter_units``)
and hands each pending unit to a worker; a worker analyses it and commits its shard with
the same ``engine.process_unit``, so the output holds the same rows and a job can be
resumed by any engine.  At most ``2 × workers`` units are in flight, so memory stays
bounded however large the input.  Workers are spawned (not forked: the parent may already
hold onnxruntime threads), and each gets ``cpus // workers`` threads unless
``AFFECTLENS_THREADS`` says otherwise (spinning: ``runtime_threads``, off unless asked).
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from affectlens.batch.engine import JobSpec, process_unit, warn_file_errors, worker_pool
from affectlens.batch.manifest import UnitInfo, committed_units, finished_sources, unit_info
from affectlens.batch.sources import RowBatch, Unit, estimate_rows, iter_units

#: below this many input rows, starting worker processes (each loads the model) costs more than it gives
AUTO_MIN_ROWS = 20_000

_worker_pool: Any = None
_worker_spec: JobSpec | None = None


def auto_workers(spec: JobSpec, *, cpus: int | None = None) -> int:
    """Worker processes for ``workers=None``: one per available CPU for a large job, else 1 (in-process)."""
    from affectlens.runtime_threads import available_cpus

    cpus = available_cpus() if cpus is None else cpus
    if cpus < 2:
        return 1
    rows = sum(estimate_rows(s) for s in spec.sources)
    return cpus if rows >= AUTO_MIN_ROWS else 1


def worker_environment(workers: int, *, cpus: int | None = None,
                       environ: dict[str, str] | None = None) -> dict[str, str]:
    """The layout variables a worker process gets: the user's if set, else the CPUs shared out."""
    from affectlens.runtime_threads import SPINNING_ENV, THREADS_ENV, available_cpus, parse_threads

    env = dict(os.environ if environ is None else environ)
    cpus = available_cpus() if cpus is None else cpus
    if parse_threads(env.get(THREADS_ENV)) is None:
        env[THREADS_ENV] = str(max(1, cpus // max(1, workers)))
    return {k: env[k] for k in (THREADS_ENV, SPINNING_ENV) if k in env}


def _init_worker(spec: JobSpec, model: Any, layout_env: dict[str, str]) -> None:
    os.environ.update(layout_env)  # read by runtime_threads when the model builds its sessions
    global _worker_pool, _worker_spec
    _worker_spec = spec
    _worker_pool = worker_pool(spec, model)


def _work(unit: Unit) -> UnitInfo:
    assert _worker_spec is not None, "worker not initialised"
    with warnings.catch_warnings():  # the parent turns file errors into warnings once, from the UnitInfo
        warnings.simplefilter("ignore")
        return process_unit(_worker_spec, _worker_pool, unit)


def run_units_processes(
    spec: JobSpec,
    model: Any,
    *,
    workers: int,
    progress: Callable[[int, int | None], None] | None = None,
) -> tuple[int, int]:
    """Process every unit not yet committed with ``workers`` processes; returns (units found done, rows now)."""
    done = committed_units(spec.out_dir)
    finished = finished_sources(done)
    total = sum(estimate_rows(s) for s in spec.sources) if progress else None
    seen = 0
    rows_now = 0
    context = multiprocessing.get_context("spawn")
    in_flight: dict[Future[UnitInfo], int] = {}  # future -> input rows of its unit

    def collect(block: bool) -> None:
        nonlocal rows_now, seen
        if not in_flight:
            return
        finished_now, _ = wait(list(in_flight), return_when=FIRST_COMPLETED, timeout=None if block else 0)
        for future in finished_now:
            seen += in_flight.pop(future)
            info = future.result()
            warn_file_errors(info)
            rows_now += info.rows
            if progress:
                progress(seen, total)

    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                             initargs=(spec, model, worker_environment(workers))) as executor:
        for source_index, source in enumerate(spec.sources):
            if source_index in finished:
                seen += sum(unit_info(p).rows for (s, _), p in done.items() if s == source_index)
                if progress:
                    progress(seen, total)
                continue
            cols = spec.columns[source_index]
            units = (iter_units(source_index, source, cols, spec.unit_rows) if cols is not None
                     else iter([Unit(source_index, 0, RowBatch([], [], [], {}), last=True)]))
            for unit in units:
                if unit.key in done:
                    seen += len(unit.batch)
                    continue
                while len(in_flight) >= 2 * workers:
                    collect(block=True)
                in_flight[executor.submit(_work, unit)] = len(unit.batch)
                collect(block=False)
        while in_flight:
            collect(block=True)
    return len(done), rows_now
