"""Run recognizers over a task's data, time them, measure their memory, score them.

Every model in a run sees the same inputs in the same order and batches.

**Throughput** is ``items / seconds spent inside analyze()`` (wall clock, summed over
batches): loading weights, reading the corpus and scoring are excluded; ``load_s``
(including a peer's first-use training) is reported separately.

**Memory**: ``tracemalloc`` misses what onnxruntime, BLAS and other native code
allocate, so each model named by registry name runs in a *fresh Python subprocess*
(``python -m affectlens.bench.worker``) and we read that process's peak resident set
size from ``resource.getrusage(RUSAGE_SELF).ru_maxrss``: ``peak_rss_mib`` is the
whole process (interpreter + numpy + the inputs + the model), ``model_rss_mib`` is that
peak minus the resident size (``/proc/self/statm``) just before ``load()``, i.e. what
loading and inference added on top of the interpreter and the inputs.

A recognizer *object* passed in (or ``isolate=False``) runs in this process instead
(``isolation = "in-process"``): ``ru_maxrss`` never goes down, so an earlier peak of the
process (another model, the corpus reader) hides this model's; ``peak_rss_mib`` is then
the process's peak so far and ``model_rss_mib`` is left empty rather than guessed.
"""

from __future__ import annotations

import gc
import os
import pickle
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from affectlens.bench.tasks import VAD_DIMENSIONS, ModelOutput, Task, TaskData
from affectlens.protocols import Recognizer
from affectlens.types import EmotionResult

MEMORY_METHOD = ("peak RSS = resource.getrusage(RUSAGE_SELF).ru_maxrss of a fresh subprocess per "
                 "model; model RSS = that peak minus the resident size just before load()")
THROUGHPUT_METHOD = "items / wall-clock seconds inside analyze() calls (load and scoring excluded)"


def current_rss_mib() -> float:
    """Resident set size right now, in MiB (``/proc/self/statm``; the peak so far where that is missing)."""
    try:
        resident_pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    except (OSError, IndexError, ValueError):
        return max_rss_mib()
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def max_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@dataclass
class Inference:
    """What running one recognizer over the inputs produced (the worker's answer)."""

    results: list[EmotionResult]
    name: str
    version: str
    label_set: str
    vad_dimensions: tuple[str, ...]
    load_s: float
    analyze_s: float
    baseline_rss_mib: float
    peak_rss_mib: float
    trained_s: float | None = None


def _batches(inputs: Sequence[Any], batch_size: int, *, whole_dialogues: bool) -> Iterator[list[Any]]:
    """Batches of ``batch_size``; for a context model, extended so no dialogue is cut in two."""
    begin = 0
    while begin < len(inputs):
        end = min(len(inputs), begin + batch_size)
        if whole_dialogues:
            last = getattr(inputs[end - 1], "dialogue_id", None)
            while last is not None and end < len(inputs) and getattr(inputs[end], "dialogue_id", None) == last:
                end += 1
        yield list(inputs[begin:end])
        begin = end


def run_inference(recognizer: Recognizer, inputs: Sequence[Any], batch_size: int) -> Inference:
    """Load, then feed ``inputs`` in order in batches of ``batch_size``, timing analyze() only."""
    gc.collect()
    baseline = current_rss_mib()
    started = time.perf_counter()
    recognizer.load()
    load_s = time.perf_counter() - started
    results: list[EmotionResult] = []
    analyze_s = 0.0
    for batch in _batches(inputs, batch_size, whole_dialogues=bool(getattr(recognizer, "uses_context", False))):
        started = time.perf_counter()
        out = recognizer.analyze(batch)
        analyze_s += time.perf_counter() - started
        if len(out) != len(batch):
            raise RuntimeError(f"{recognizer.name} returned {len(out)} results for {len(batch)} inputs")
        results.extend(out)
    return Inference(
        results=results, name=recognizer.name, version=recognizer.version,
        label_set=recognizer.label_set,
        vad_dimensions=tuple(getattr(recognizer, "vad_dimensions", VAD_DIMENSIONS)),
        load_s=load_s, analyze_s=analyze_s, baseline_rss_mib=baseline, peak_rss_mib=max_rss_mib(),
        trained_s=getattr(recognizer, "trained_seconds", None))


def infer_in_subprocess(model: str, inputs: Sequence[Any], batch_size: int,
                        params: dict[str, Any] | None = None, timeout: float | None = None) -> Inference:
    """Run ``model`` (a registry name) in a fresh interpreter; see the module docstring for why."""
    with tempfile.TemporaryDirectory(prefix="affectlens-bench-") as tmp:
        request = Path(tmp) / "request.pkl"
        response = Path(tmp) / "response.pkl"
        with request.open("wb") as handle:
            pickle.dump({"model": model, "inputs": list(inputs), "batch_size": batch_size,
                         "params": params or {}}, handle, protocol=pickle.HIGHEST_PROTOCOL)
        proc = subprocess.run(
            [sys.executable, "-m", "affectlens.bench.worker", str(request), str(response)],
            capture_output=True, text=True, timeout=timeout, check=False)
        if proc.returncode != 0 or not response.is_file():
            lines = [line for line in (proc.stderr or "").strip().splitlines() if line.strip()]
            raise RuntimeError(lines[-1] if lines else f"worker exited with code {proc.returncode}")
        with response.open("rb") as handle:  # written by our own worker a moment ago
            inference: Inference = pickle.load(handle)
        return inference


@dataclass
class ModelRun:
    """One model's row in a report."""

    model: str
    version: str = ""
    label_set: str = ""
    metrics: dict[str, float | None] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    intervals: dict[str, list[float]] = field(default_factory=dict)
    n_empty: int = 0
    batch_size: int = 0
    load_s: float | None = None
    trained_s: float | None = None
    analyze_s: float | None = None
    items_per_s: float | None = None
    peak_rss_mib: float | None = None
    model_rss_mib: float | None = None
    isolation: str = "subprocess"
    error: str | None = None


@dataclass
class BenchReport:
    task: str
    title: str
    data: str
    data_path: str
    split: str
    n: int
    limit: int | None
    metrics: dict[str, str]  # name -> description, in table order
    headline: list[str]
    models: list[ModelRun]
    machine: dict[str, Any]
    date: str
    command: str
    affectlens_version: str
    bootstrap: int
    throughput_method: str = THROUGHPUT_METHOD
    memory_method: str = MEMORY_METHOD

    @property
    def limited(self) -> bool:
        return self.limit is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchReport:
        fields = dict(data)
        fields["models"] = [ModelRun(**row) for row in data["models"]]
        return cls(**fields)


def machine_info() -> dict[str, Any]:
    """Cores, CPU model, memory, OS, Python and runtime versions: what a table's "machine" line says."""
    cpu_model = platform.processor() or platform.machine()
    memory_gib: float | None = None
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        usable = os.cpu_count() or 1

    def version_of(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    return {
        "cores": usable, "cpu": cpu_model, "memory_gib": memory_gib, "os": platform.platform(),
        "python": platform.python_version(), "onnxruntime": version_of("onnxruntime"),
        "numpy": version_of("numpy"), "scikit_learn": version_of("scikit-learn"),
        "load_average": _load_average(),
    }


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return None


def _affectlens_version() -> str:
    try:
        return metadata.version("affectlens")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def run_benchmark(
    task: Task,
    models: Sequence[str | Recognizer],
    *,
    split: str | None = None,
    limit: int | None = None,
    data_root: str | Path | None = None,
    data: TaskData | None = None,
    batch_size: int = 64,
    bootstrap: int = 1000,
    isolate: bool = True,
    command: str = "",
    on_model: Callable[[str], None] | None = None,
) -> BenchReport:
    """Score every model on the same ``task`` data; one failing model is reported, not fatal.

    ``models`` are registry names (run in a fresh subprocess each when ``isolate``) or
    recognizer objects (run in this process).  ``data`` skips reading the corpus (tests).
    """
    split = split or task.default_split
    if data is None:
        data = task.load(split, data_root, limit)
    elif limit is not None:
        data = data.head(limit)
    runs: list[ModelRun] = []
    for model in models:
        label = model if isinstance(model, str) else model.name
        if on_model is not None:
            on_model(label)
        runs.append(_run_one(task, data, model, batch_size=batch_size, bootstrap=bootstrap, isolate=isolate))
    return BenchReport(
        task=task.name, title=task.title, data=task.data, data_path=data.source, split=split, n=len(data),
        limit=limit if limit is not None and limit <= len(data) else None,
        metrics={metric.name: metric.description for metric in task.metrics},
        headline=[metric.name for metric in task.metrics if metric.headline],
        models=runs, machine=machine_info(),
        date=datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
        command=command, affectlens_version=_affectlens_version(), bootstrap=bootstrap)


def _run_one(task: Task, data: TaskData, model: str | Recognizer, *, batch_size: int, bootstrap: int,
             isolate: bool) -> ModelRun:
    name = model if isinstance(model, str) else model.name
    run = ModelRun(model=name, batch_size=batch_size)
    try:
        if isinstance(model, str) and isolate:
            inference = infer_in_subprocess(model, data.inputs, batch_size)
        else:
            if isinstance(model, str):
                from affectlens.recognizers.peers import register_peers
                from affectlens.registry import load_recognizer

                register_peers()
                model = load_recognizer(model)
            run.isolation = "in-process"
            inference = run_inference(model, data.inputs, batch_size)
    except Exception as err:  # one broken model must not lose the others' results
        run.error = f"{type(err).__name__}: {err}"
        return run
    run.version = inference.version
    run.label_set = inference.label_set
    run.load_s = round(inference.load_s, 3)
    run.trained_s = round(inference.trained_s, 1) if inference.trained_s is not None else None
    run.analyze_s = round(inference.analyze_s, 3)
    run.items_per_s = round(len(data) / inference.analyze_s, 1) if inference.analyze_s > 0 else None
    run.peak_rss_mib = round(inference.peak_rss_mib, 1)
    if run.isolation == "subprocess":
        run.model_rss_mib = round(inference.peak_rss_mib - inference.baseline_rss_mib, 1)
    run.n_empty = sum(1 for result in inference.results if result.is_empty)
    output = ModelOutput(inference.results, inference.label_set, inference.vad_dimensions)
    evaluation = task.evaluate(data, output, bootstrap=bootstrap)
    run.metrics = evaluation.values
    run.notes = evaluation.notes
    run.intervals = {name: [round(low, 4), round(high, 4)]
                     for name, (low, high) in evaluation.intervals.items()}
    return run
