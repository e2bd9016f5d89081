"""Two small probes for the throughput benchmarks: per-stage time, and resident memory over time.

* ``StageTimer`` wraps methods (``wrap(owner, "name", "stage")``) or generator functions
  (``wrap_generator``) so that every call adds its time to a named stage.  Stages nest:
  a stage's time is *exclusive* (the time spent in stages called from inside it is theirs,
  not its own), so the stages add up to the wrapped work and nothing is counted twice.
  ``restore()`` puts the original attributes back.
* ``RssSampler`` reads the process's resident set size from ``/proc/self/statm`` every
  ``every`` seconds in a daemon thread: memory at several points in time, so that "flat
  memory" is a series one can look at, not one peak number.

Both only measure: nothing here changes what the wrapped code computes.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class StageTimer:
    """Exclusive wall time and call counts per named stage, from wrapped callables."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list[Any]] = []  # [stage, started, time spent in nested stages]
        self._restore: list[tuple[Any, str, Any]] = []
        self._lock = threading.Lock()

    # -- measuring ---------------------------------------------------------------------------
    def _enter(self, stage: str) -> None:
        self._stack.append([stage, self.clock(), 0.0])

    def _exit(self) -> None:
        stage, started, nested = self._stack.pop()
        spent = self.clock() - started
        self.seconds[stage] = self.seconds.get(stage, 0.0) + spent - nested
        self.calls[stage] = self.calls.get(stage, 0) + 1
        if self._stack:
            self._stack[-1][2] += spent  # the enclosing stage does not count this time as its own

    def timed(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function`` with each call's time added to ``stage``."""

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is not threading.main_thread():
                return function(*args, **kwargs)  # only the main thread's stages nest on one stack
            self._enter(stage)
            try:
                return function(*args, **kwargs)
            finally:
                self._exit()

        return wrapper

    def timed_generator(self, stage: str, function: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        """A generator function whose every ``next`` (the work that makes one item) counts to ``stage``."""

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            inner = function(*args, **kwargs)
            while True:
                self._enter(stage)
                try:
                    item = next(inner)
                except StopIteration:
                    return
                finally:
                    self._exit()
                yield item

        return wrapper

    def wrap(self, owner: Any, name: str, stage: str) -> None:
        """Replace ``owner.name`` (a class or module attribute) by its timed version."""
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        function = original.__func__ if isinstance(original, staticmethod | classmethod) else original
        timed = self.timed(stage, function)
        if isinstance(original, staticmethod):
            timed = staticmethod(timed)
        self._restore.append((owner, name, original))
        setattr(owner, name, timed)

    def wrap_generator(self, owner: Any, name: str, stage: str) -> None:
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        self._restore.append((owner, name, original))
        setattr(owner, name, self.timed_generator(stage, original))

    def restore(self) -> None:
        for owner, name, original in reversed(self._restore):
            setattr(owner, name, original)
        self._restore.clear()

    # -- reporting ---------------------------------------------------------------------------
    def report(self, total: float | None = None) -> dict[str, dict[str, float]]:
        """Per stage: seconds, calls and (with ``total``) share of it; ``other`` = total - stages."""
        out = {stage: {"seconds": round(s, 3), "calls": self.calls[stage]}
               for stage, s in sorted(self.seconds.items(), key=lambda kv: -kv[1])}
        if total is not None:
            out["other (unwrapped)"] = {"seconds": round(total - sum(self.seconds.values()), 3), "calls": 0}
            for row in out.values():
                row["share"] = round(row["seconds"] / total, 3) if total > 0 else 0.0
        return out


def rss_mb() -> float:
    """This process's resident set size now, in MB (0.0 where /proc is not there)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * PAGE_BYTES / 2**20
    except (OSError, IndexError, ValueError):
        return 0.0


class RssSampler:
    """Resident memory every ``every`` seconds in a daemon thread: ``samples`` = [(seconds, MB)]."""

    def __init__(self, every: float = 5.0, read: Callable[[], float] = rss_mb,
                 clock: Callable[[], float] = time.perf_counter,
                 on_sample: Callable[[float, float], None] | None = None) -> None:
        if every <= 0:
            raise ValueError(f"every must be positive, got {every}")
        self.every = every
        self.read = read
        self.clock = clock
        self.on_sample = on_sample  # e.g. a log line per sample, so that a long run shows its memory as it goes
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = 0.0

    def sample(self) -> None:
        self.samples.append((round(self.clock() - self._started, 2), round(self.read(), 1)))
        if self.on_sample is not None:
            self.on_sample(*self.samples[-1])

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def __enter__(self) -> RssSampler:
        self._started = self.clock()
        self.sample()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

    def summary(self, points: int = 13) -> dict[str, Any]:
        """First, peak and last sample; over the samples taken *during* the run (not the first,
        taken before any work, nor the last, after it): their range and the growth from their
        first quarter's mean to their last quarter's; ``points`` samples evenly spread over the run."""
        if not self.samples:
            return {}
        values = [mb for _, mb in self.samples]
        during = values[1:-1] or values
        quarter = max(1, len(during) // 4)
        pick = sorted({round(i * (len(self.samples) - 1) / max(1, points - 1)) for i in range(points)})
        return {
            "every_s": self.every,
            "n": len(values),
            "first_mb": values[0],
            "peak_mb": max(values),
            "last_mb": values[-1],
            "during_run_min_mb": min(during),
            "during_run_max_mb": max(during),
            "during_run_growth_mb": round(sum(during[-quarter:]) / quarter - sum(during[:quarter]) / quarter, 1),
            "series_s_mb": [list(self.samples[i]) for i in pick],
        }


__all__ = ["RssSampler", "StageTimer", "rss_mb"]
