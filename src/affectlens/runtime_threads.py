"""The one place that decides how many threads each model runtime pool gets, and whether it spins.

Every onnxruntime session (text, speech, face, conversation, support, VAD) is built with
:func:`session_options`, and CTranslate2 (faster-whisper) takes :func:`pool_threads`.

Why: onnxruntime's default pool spin-waits after each run.  Two such pools on the same
cores (two processes, the service analysing text and audio at once, batch workers, a
CTranslate2 job beside us) spend their time spinning against each other.  On the 2-core
machine two default processes at once gave 145 + 140 texts/s where two single-thread
processes gave 223 + 221 (issue #21 item 11; ``benchmarks/thread_layout.py`` measures it).

The layout, in order of precedence:

1. an explicit ``threads=`` argument (a recognizer's constructor, a test);
2. ``AFFECTLENS_THREADS`` (``auto`` or a number) and ``AFFECTLENS_THREAD_SPINNING``
   (``auto``, ``on`` or ``off``): what ``--threads`` / ``--thread-spinning`` on the CLI and
   the service's settings set, and what batch worker processes inherit;
3. ``auto``: as many threads as the CPUs really available to this process (affinity mask
   and cgroup CPU quota, not ``os.cpu_count()``), shared out between the pools of this
   process that run at once, at most ``MAX_AUTO_THREADS``; and no spinning.

Why no spinning by default: a process cannot see the other pools on its cores (another
process, a CTranslate2 job, other users), and there the spinning costs most.  Measured on
the shared 2-core machine: spinning bought a quiet lone process about 6% (397 vs 373
texts/s, p50 4.2 vs 5.5 ms, one run); on the loaded machine it halved texts/s and made the
median p50 2.7-7.8x longer, alone, two at once and beside a 2-thread CTranslate2 job
(``benchmarks/thread_layout.py``, docs/batch.md "Threads and worker processes").  Set
``AFFECTLENS_THREAD_SPINNING=on`` on a machine that runs nothing else.

Nothing here runs at import time; every value is read when a session is built.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

THREADS_ENV = "AFFECTLENS_THREADS"
SPINNING_ENV = "AFFECTLENS_THREAD_SPINNING"
#: onnxruntime session config key: "0" makes idle pool threads sleep instead of spin-waiting
ALLOW_SPINNING = "session.intra_op.allow_spinning"
#: more intra-op threads than this gave nothing on the small models shipped (batches of short texts)
MAX_AUTO_THREADS = 4
CGROUP_ROOT = Path("/sys/fs/cgroup")
SELF_CGROUP = Path("/proc/self/cgroup")

_ON = {"1", "on", "true", "yes"}
_OFF = {"0", "off", "false", "no"}


class ThreadSettingError(ValueError):
    """An ``AFFECTLENS_THREADS`` / ``AFFECTLENS_THREAD_SPINNING`` value (or option) that is not valid."""


@dataclass(frozen=True)
class ThreadLayout:
    """How one model runtime pool is run in this process."""

    cpus: int  # CPUs available to this process (affinity and cgroup quota)
    threads: int  # intra-op threads of the pool
    spinning: bool  # whether idle pool threads spin-wait for the next run
    source: str  # where ``threads`` came from: "argument", "AFFECTLENS_THREADS" or "auto"

    def describe(self) -> str:
        spin = "spinning" if self.spinning else "no spinning"
        return f"{self.threads} thread(s) per model, {spin}, {self.cpus} CPU(s) available ({self.source})"


# -- CPUs actually available ----------------------------------------------------------------


def affinity_cpus() -> int:
    """CPUs in this process's affinity mask (``taskset``, ``docker --cpuset-cpus``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def cgroup_cpu_limit(root: Path = CGROUP_ROOT, self_cgroup: str | None = None) -> float | None:
    """CPUs the cgroup CPU quota allows (e.g. 1.5 for ``docker --cpus 1.5``), or None when unlimited.

    cgroup v2: ``cpu.max`` ("max 100000" or "150000 100000") of this process's cgroup and its
    ancestors (the smallest wins).  cgroup v1: ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``
    (quota -1: unlimited).  ``self_cgroup`` is the text of ``/proc/self/cgroup`` (read when None).
    """
    if self_cgroup is None:
        try:
            self_cgroup = SELF_CGROUP.read_text(encoding="utf-8")
        except OSError:
            self_cgroup = ""
    limits: list[float] = []
    for line in self_cgroup.splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":  # v2 unified hierarchy
            limits.extend(_v2_limits(root, path))
        elif "cpu" in controllers.split(","):
            limits.extend(_v1_limits(root / controllers, path))
    if not self_cgroup.strip():  # no /proc/self/cgroup: a container's own root
        limits.extend(_v2_limits(root, "/"))
    return min(limits) if limits else None


def _folders(base: Path, path: str) -> list[Path]:
    """``base/path`` and each ancestor up to ``base`` (a container often sees only its own root)."""
    parts = [p for p in path.split("/") if p and p != ".."]
    return [base.joinpath(*parts[:i]) for i in range(len(parts), -1, -1)]


def _v2_limits(root: Path, path: str) -> list[float]:
    limits = []
    for folder in _folders(root, path):
        fields = _read(folder / "cpu.max").split()
        if len(fields) == 2 and fields[0] != "max":
            limits.append(_ratio(fields[0], fields[1]))
    return [x for x in limits if x > 0]


def _v1_limits(base: Path, path: str) -> list[float]:
    limits = []
    for folder in _folders(base, path):
        quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
        if quota and period and not quota.startswith("-"):
            limits.append(_ratio(quota, period))
    return [x for x in limits if x > 0]


def _ratio(quota: str, period: str) -> float:
    try:
        return int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return 0.0


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def available_cpus(*, affinity: int | None = None, cgroup_limit: float | None = None,
                   read_cgroup: bool = True) -> int:
    """CPUs this process may really use: the affinity mask, capped by the cgroup quota (rounded up)."""
    cpus = affinity_cpus() if affinity is None else max(1, affinity)
    limit = cgroup_cpu_limit() if cgroup_limit is None and read_cgroup else cgroup_limit
    if limit is not None:
        cpus = min(cpus, max(1, math.ceil(limit - 1e-9)))
    return cpus


# -- settings ---------------------------------------------------------------------------------


def parse_threads(raw: str | int | None) -> int | None:
    """``None``/"" /"auto" -> None (automatic); a positive number -> that number."""
    if raw is None:
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = raw.strip().lower()
        if text in ("", "auto", "0"):
            return None
        try:
            value = int(text)
        except ValueError:
            raise ThreadSettingError(f"{THREADS_ENV}={raw!r}: expected 'auto' or a number of threads") from None
    if value < 0:
        raise ThreadSettingError(f"{THREADS_ENV}={raw!r}: expected 'auto' or a positive number of threads")
    return value or None


def parse_spinning(raw: str | bool | None) -> bool | None:
    """``None``/""/"auto" -> None (automatic); on/off, 1/0, true/false -> that."""
    if raw is None or isinstance(raw, bool):
        return raw
    text = raw.strip().lower()
    if text in ("", "auto"):
        return None
    if text in _ON:
        return True
    if text in _OFF:
        return False
    raise ThreadSettingError(f"{SPINNING_ENV}={raw!r}: expected auto, on or off")


def choose_layout(
    cpus: int,
    *,
    threads: int | None = None,
    spinning: bool | None = None,
    pools: int = 1,
    source: str = "auto",
) -> ThreadLayout:
    """The layout for one pool when ``pools`` pools of this process may run at once on ``cpus`` CPUs.

    Automatic threads: the CPUs divided between the pools, at least 1, at most MAX_AUTO_THREADS.
    Automatic spinning: off (see the module docstring: the pools we cannot see are where it
    costs most); an idle pool then sleeps instead of stealing the time slices of its neighbours.
    """
    cpus = max(1, cpus)
    pools = max(1, pools)
    if threads is None:
        threads = max(1, min(MAX_AUTO_THREADS, cpus // pools))
        source = "auto"
    if spinning is None:
        spinning = False
    return ThreadLayout(cpus=cpus, threads=threads, spinning=spinning, source=source)


def current_layout(
    *,
    threads: int | None = None,
    pools: int = 1,
    environ: Mapping[str, str] | None = None,
    cpus: int | None = None,
) -> ThreadLayout:
    """The layout a pool of this process gets now: argument, then environment, then automatic."""
    env = os.environ if environ is None else environ
    source = "argument"
    if threads is None:
        threads = parse_threads(env.get(THREADS_ENV))
        source = THREADS_ENV
    spinning = parse_spinning(env.get(SPINNING_ENV))
    return choose_layout(available_cpus() if cpus is None else cpus, threads=threads, spinning=spinning,
                         pools=pools, source=source)


def configure(threads: int | str | None = None, spinning: bool | str | None = None) -> None:
    """Set the layout for this process and the processes it starts (the CLI options call this).

    Written to the environment on purpose: batch worker processes and the service's
    recognizers, built later and elsewhere, read the same values.
    """
    if threads is not None:
        value = parse_threads(threads)
        os.environ[THREADS_ENV] = "auto" if value is None else str(value)
    if spinning is not None:
        flag = parse_spinning(spinning)
        os.environ[SPINNING_ENV] = "auto" if flag is None else ("on" if flag else "off")


# -- builders ---------------------------------------------------------------------------------


def pool_threads(threads: int | None = None, *, pools: int = 1) -> int:
    """Intra-op threads for a runtime that has no spinning switch we set (CTranslate2, TFLite)."""
    return current_layout(threads=threads, pools=pools).threads


def session_options(
    ort: Any,
    *,
    threads: int | None = None,
    entries: Mapping[str, str] | None = None,
    pools: int = 1,
    optimize: bool = True,
) -> Any:
    """onnxruntime ``SessionOptions`` with this process's layout (one intra-op pool, no inter-op pool).

    ``entries`` are the model's own session config entries; the spinning entry is the
    layout's, whatever they say, because it depends on the deployment, not on the model.
    ``pools``: how many pools of this model take turns or run at once (a model with a branch
    session: 2), so that automatic spinning stays off where they share cores.
    """
    layout = current_layout(threads=threads, pools=pools)
    options = ort.SessionOptions()
    if optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = layout.threads
    options.inter_op_num_threads = 1
    for key, value in (entries or {}).items():
        if key != ALLOW_SPINNING:
            options.add_session_config_entry(key, value)
    options.add_session_config_entry(ALLOW_SPINNING, "1" if layout.spinning else "0")
    return options


__all__ = [
    "ALLOW_SPINNING", "SPINNING_ENV", "THREADS_ENV", "ThreadLayout", "ThreadSettingError", "available_cpus",
    "cgroup_cpu_limit", "choose_layout", "configure", "current_layout", "parse_spinning", "parse_threads",
    "pool_threads", "session_options",
]
