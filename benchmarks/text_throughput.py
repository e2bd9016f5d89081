"""Throughput, latency and peak memory of the shipped text recognizer on 2 CPU cores.

Usage: python benchmarks/text_throughput.py [--n 5427] [--batch-size 32] [--threads 2] [--model NAME | --model-dir DIR]

The model: the default text model, as ``affectlens analyze`` picks it (``registry.default_for``),
unless ``--model`` names a registered one or ``--model-dir`` a text model folder; the report
names it.  (Until session 15 the default was v1's folder, the recognizer class's own default,
not the default model: earlier figures of the default model were taken with ``--model-dir``.)

Texts: the GoEmotions test split when ../shared/datasets is present (GoEmotions-length
Reddit comments), else the shipped examples repeated.  Measures the full public path,
``recognizer.analyze`` (tokenising, windows, ONNX, calibration, word cues, result objects),
and the cold start of ``affectlens analyze "..."`` as a user runs it.

Spinning follows ``AFFECTLENS_THREAD_SPINNING`` (default off since issue #21 item 11; figures
measured before that were with spinning: set it to ``on`` to compare with them).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path


def _texts(n: int) -> tuple[list[str], str]:
    try:
        from affectlens.bench.datasets import load_goemotions

        texts = load_goemotions("test").texts
        source = "GoEmotions test split"
    except FileNotFoundError:
        examples = Path(__file__).resolve().parents[1] / "src/affectlens/examples/sentences.txt"
        texts = [t for t in examples.read_text(encoding="utf-8").splitlines() if t.strip()]
        source = "shipped example sentences (GoEmotions not found)"
    while len(texts) < n:
        texts = texts + texts
    return texts[:n], source


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5427)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--chunk", type=int, default=1024, help="texts handed to analyze() at once")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", default=None, help="a registered text model (default: the default text model)")
    parser.add_argument("--model-dir", type=Path, default=None, help="a text model folder instead")
    args = parser.parse_args()

    from affectlens.recognizers.text_onnx import TextOnnxRecognizer
    from affectlens.registry import spec_or_default
    from affectlens.runtime_threads import current_layout
    from affectlens.types import Modality

    texts, source = _texts(args.n)
    if args.model_dir is not None:
        if args.model is not None:
            parser.error("--model and --model-dir: pass one")
        rec = TextOnnxRecognizer(args.model_dir, batch_size=args.batch_size, threads=args.threads)
        model = str(args.model_dir)
    else:
        spec = spec_or_default(args.model, Modality.TEXT)
        rec = spec.build(batch_size=args.batch_size, threads=args.threads)
        model = spec.name
    t0 = time.perf_counter()
    rec.load()
    load_s = time.perf_counter() - t0
    rec.analyze(texts[:64])  # warm-up
    t0 = time.perf_counter()
    for start in range(0, len(texts), args.chunk):
        rec.analyze(texts[start : start + args.chunk])
    seconds = time.perf_counter() - t0
    single = []
    for text in texts[:50]:
        t1 = time.perf_counter()
        rec.analyze([text])
        single.append(time.perf_counter() - t1)
    single.sort()
    env = dict(os.environ)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "affectlens.cli", "analyze", "I am so happy for you!",
                    "--format", "json"], check=True, capture_output=True, env=env)
    cold_s = time.perf_counter() - t0
    report = {
        "model": model, "texts": len(texts), "source": source, "batch_size": args.batch_size,
        "threads": args.threads,
        "spinning": current_layout(threads=args.threads).spinning,
        "texts_per_s": round(len(texts) / seconds, 1),
        "single_text_latency_ms_p50": round(1000 * single[len(single) // 2], 1),
        "single_text_latency_ms_p95": round(1000 * single[int(len(single) * 0.95)], 1),
        "model_load_s": round(load_s, 3),
        "cli_cold_start_s": round(cold_s, 2),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "cpu_count": len(os.sched_getaffinity(0)),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
