"""Batch engine throughput and peak memory vs the text model's own single-process rate.

Usage: python benchmarks/batch_throughput.py [--rows 100000] [--format parquet|csv] [--threads 2] [--workers N]
                                             [--model text.minilm-goemotions.v1] [--model-dir DIR]
                                             [--model-sample 10240] [--workdir DIR] [--keep]

1. Writes a ``--rows``-row table (GoEmotions train texts repeated when ../shared/datasets is
   present, else synthetic sentences assembled from a small word list; fixed seed).
2. Measures the model alone in a child process, exactly as ``benchmarks/text_throughput.py``
   does: ``TextOnnxRecognizer.analyze`` on chunks of 1024 of the first ``--model-sample``
   texts, after a warm-up; once before and once after the batch run (the ratio uses the
   faster of the two: on a shared machine the rate drifts).
3. Runs ``affectlens batch`` on the whole table in a child process and reports its rows/s
   (wall clock of the whole command, start-up and model load included) and its peak RSS
   (``ru_maxrss`` of that child, from ``os.wait4``).

Prints one JSON object with both rates and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = {
    "subjects": ["I", "we", "my sister", "the team", "our neighbour", "everyone here", "this guy", "you"],
    "verbs": ["love", "hate", "miss", "can't believe", "am worried about", "laughed at", "am so proud of",
              "got angry about", "feel sad about", "are excited about", "don't care about", "thank you for"],
    "objects": ["the new album", "this weather", "the game last night", "your message", "the long wait",
                "that terrible movie", "the surprise party", "my old job", "the results", "this thread"],
    "tails": ["", "!", "!!", ".", "...", " to be honest.", " and it shows.", ", lol.", " so much.",
              " again, seriously?", " :)", ", what a day."],
}


def synthetic_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        parts = [rng.choice(WORDS["subjects"]), rng.choice(WORDS["verbs"]), rng.choice(WORDS["objects"])]
        if rng.random() < 0.4:
            parts += ["and", rng.choice(WORDS["verbs"]), rng.choice(WORDS["objects"])]
        texts.append(" ".join(parts) + rng.choice(WORDS["tails"]))
    return texts


def corpus_texts(n: int) -> tuple[list[str], str]:
    try:
        from affectlens.bench.datasets import load_goemotions

        base = list(load_goemotions("train").texts)
        source = "GoEmotions train texts, repeated"
    except (FileNotFoundError, OSError):
        base = synthetic_texts(min(n, 20_000))
        source = "synthetic sentences from a small word list (GoEmotions not found)"
    texts = (base * (n // len(base) + 1))[:n]
    return texts, source


def write_table(texts: list[str], path: Path, fmt: str) -> None:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    n = len(texts)
    table = pa.table({
        "id": [f"t{i}" for i in range(n)],
        "text": texts,
        "created": [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(n)],
        "forum": [f"f{i % 7}" for i in range(n)],
    })
    if fmt == "parquet":
        pq.write_table(table, path, row_group_size=16_384)
    else:
        pcsv.write_csv(table, path)


def model_rate(args: argparse.Namespace, texts_path: Path) -> dict[str, float]:
    """Child: the text model alone, as benchmarks/text_throughput.py measures it."""
    import pyarrow.parquet as pq

    from affectlens.recognizers.text_onnx import TextOnnxRecognizer
    from affectlens.registry import get_spec

    texts = pq.read_table(texts_path).column("text").to_pylist()
    # the model that `affectlens batch` runs below: --model-dir's folder, else --model
    rec = TextOnnxRecognizer(args.model_dir, threads=args.threads) if args.model_dir else \
        get_spec(args.model).build(threads=args.threads)
    rec.load()
    rec.analyze(texts[:64])
    started = time.perf_counter()
    for start in range(0, len(texts), 1024):
        rec.analyze(texts[start:start + 1024])
    seconds = time.perf_counter() - started
    return {"texts": len(texts), "seconds": round(seconds, 2), "texts_per_s": round(len(texts) / seconds, 1)}


def run_child(command: list[str], env: dict[str, str]) -> tuple[int, float, float, str]:
    """(exit code, wall seconds, peak RSS of that child in MB, output tail), rusage from ``os.wait4``."""
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: tell Popen
        log.seek(0)
        tail = log.read()[-2000:]
    return proc.returncode, seconds, usage.ru_maxrss / 1024.0, tail


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None,
                        help="batch worker processes (affectlens batch --workers) [default: automatic]")
    parser.add_argument("--model", default="text.minilm-goemotions.v1")
    parser.add_argument("--model-dir", default=None, help="a TextOnnx model folder instead of the shipped model")
    parser.add_argument("--model-sample", type=int, default=10_240, help="texts for the model-only rate")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated table and batch output")
    parser.add_argument("--child", choices=["model"], default=None, help=argparse.SUPPRESS)
    parser.add_argument("--texts", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "model":
        print(json.dumps(model_rate(args, Path(args.texts))))
        return

    import pyarrow as pa
    import pyarrow.parquet as pq

    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="affectlens-batch-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    texts, source = corpus_texts(args.rows)
    table_path = work / f"corpus.{args.format}"
    write_table(texts, table_path, args.format)
    sample_path = work / "model_sample.parquet"
    pq.write_table(pa.table({"text": texts[: args.model_sample]}), sample_path)
    del texts
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}

    # 1) the model alone (one child process)
    model_cmd = [sys.executable, __file__, "--child", "model", "--texts", str(sample_path),
                 "--threads", str(args.threads)] + (["--model-dir", args.model_dir] if args.model_dir else [])
    def model_alone() -> tuple[dict[str, float], float]:
        code, _, rss, tail = run_child(model_cmd, env)
        if code != 0:
            raise SystemExit(f"model benchmark failed:\n{tail}")
        return json.loads(tail.strip().splitlines()[-1]), rss

    model_before, model_rss = model_alone()

    # 2) the batch engine (a second child)
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    model_args = ["--model", args.model] if not args.model_dir else []
    batch_cmd = [sys.executable, "-c", "import sys; from affectlens.cli import run; sys.exit(run(sys.argv[1:]))",
                 "batch", str(table_path), "--out", str(out), "--id", "id", "--time", "created",
                 "--group", "forum", "--no-progress", *model_args,
                 *(["--workers", str(args.workers)] if args.workers else [])]
    if args.model_dir:  # a model folder: register it under a temporary name in the child
        batch_cmd[2] = (
            "import sys; from affectlens import registry; from affectlens.types import Modality; "
            "registry.available(); registry.register(registry.RecognizerSpec('text.bench.v1', Modality.TEXT, "
            f"'goemotions', 'affectlens.recognizers.text_onnx:create'), replace=True); "
            "import affectlens.recognizers.text_onnx as t; "
            f"t.DEFAULT_MODEL_DIR = __import__('pathlib').Path({args.model_dir!r}); "
            "from affectlens.cli import run; sys.exit(run(sys.argv[1:]))"
        )
        batch_cmd += ["--model", "text.bench.v1"]
    code, seconds, batch_rss, tail = run_child(batch_cmd, env)
    if code != 0:
        raise SystemExit(f"batch failed:\n{tail}")
    # 3) the model alone again: on a shared machine the rate drifts, so the ratio uses the faster one
    model_after, _ = model_alone()
    model = max(model_before, model_after, key=lambda m: m["texts_per_s"])
    manifest = json.loads((out / "manifest.json").read_text())
    rows_per_s = args.rows / seconds
    report = {
        "rows": args.rows, "format": args.format, "texts": source, "threads": args.threads,
        "cpu_count": len(os.sched_getaffinity(0)),
        "model": manifest["identity"]["model"], "model_dir": args.model_dir or "(shipped)",
        "model_only_texts_per_s": model["texts_per_s"], "model_only_sample": model["texts"],
        "model_only_before_after": [model_before["texts_per_s"], model_after["texts_per_s"]],
        "model_only_peak_rss_mb": round(model_rss, 1),
        "batch_workers": manifest["runs"][-1].get("workers"),
        "batch_wall_s": round(seconds, 1), "batch_rows_per_s": round(rows_per_s, 1),
        "batch_rows_per_s_excluding_startup": manifest["timings"]["rows_per_second"],
        "ratio_batch_to_model": round(rows_per_s / model["texts_per_s"], 3),
        "batch_peak_rss_mb": round(batch_rss, 1),
        "shards": manifest["counts"]["shards"], "errors": manifest["counts"]["errors"],
    }
    print(json.dumps(report, indent=2))
    if not args.keep and not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
