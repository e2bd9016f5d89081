"""Relative speed of two text model folders on a busy machine: interleaved rounds, best and median.

On a shared machine one throughput run per folder says little (the load moves by a factor of
two within minutes).  Here both recognizers are loaded in one process and the same chunk of
texts goes through ``analyze`` (the full path with word cues) alternately, ``--rounds`` times
each; the best round of each is the closest to an unloaded figure and their ratio is the
comparison to report, with the load average beside it.

Usage: python benchmarks/text_ab_speed.py --a DIR --b DIR [--n 512] [--rounds 8] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--a", type=Path, required=True, help="a model folder")
    parser.add_argument("--b", type=Path, required=True, help="another model folder")
    parser.add_argument("--n", type=int, default=512, help="texts per round (GoEmotions test, file order)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from affectlens.bench.datasets import load_goemotions
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    texts = load_goemotions("test").texts[: args.n]
    recs = {str(d): TextOnnxRecognizer(d, threads=args.threads) for d in (args.a, args.b)}
    for rec in recs.values():
        rec.load()
        rec.analyze(texts[:64])  # warm-up
    seconds: dict[str, list[float]] = {name: [] for name in recs}
    load_before = os.getloadavg()
    for _ in range(args.rounds):
        for name, rec in recs.items():
            start = time.perf_counter()
            rec.analyze(texts)
            seconds[name].append(time.perf_counter() - start)
    report = {
        "texts_per_round": len(texts), "rounds": args.rounds, "threads": args.threads,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "texts_per_s": {name: {"best": round(len(texts) / min(s), 1),
                               "median": round(len(texts) / sorted(s)[len(s) // 2], 1)}
                        for name, s in seconds.items()},
    }
    a, b = (min(seconds[str(d)]) for d in (args.a, args.b))
    report["best_a_over_best_b"] = round(b / a, 3)  # > 1: a is faster
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
