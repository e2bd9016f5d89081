"""Throughput and peak memory of the shipped text recognizer on one long document.

Usage: python benchmarks/long_text_throughput.py [--mb 5] [--threads 2] [--baseline 1024] [--model NAME]

The model: the default text model, as ``affectlens analyze`` picks it, or ``--model`` (until
session 15 it was v1's folder, whatever the default).

The document: GoEmotions test comments (each closed with a full stop when it has no end
punctuation) joined with spaces until it has ``--mb`` million characters; the shipped
example sentences when ../shared/datasets is absent.  It goes through the public path,
``recognizer.analyze([document])``: sentence windows, ONNX, calibration, word cues, a
segment per window and the document aggregate.  For comparison the same process first
runs ``--baseline`` of the same comments as separate texts (the normal throughput of
``benchmarks/text_throughput.py``).  "texts/s equivalent" is the document's characters per
second divided by the mean length of a comment.  Peak RSS is the process's maximum
resident set (``ru_maxrss``) after each step; run sizes in separate processes to compare
them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path


def _comments() -> tuple[list[str], str]:
    try:
        from affectlens.bench.datasets import load_goemotions

        return [t.strip() for t in load_goemotions("test").texts if t.strip()], "GoEmotions test split"
    except FileNotFoundError:
        examples = Path(__file__).resolve().parents[1] / "src/affectlens/examples/sentences.txt"
        return [t.strip() for t in examples.read_text(encoding="utf-8").splitlines() if t.strip()], \
            "shipped example sentences (GoEmotions not found)"


def _document(comments: list[str], chars: int) -> str:
    parts: list[str] = []
    size = 0
    i = 0
    while size < chars:
        text = comments[i % len(comments)]
        text = text if text[-1] in ".!?" else text + "."
        parts.append(text)
        size += len(text) + 1
        i += 1
    return " ".join(parts)[:chars]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=5.0, help="document size in millions of characters")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--baseline", type=int, default=1024, help="short texts for the normal throughput")
    parser.add_argument("--model", default=None, help="a registered text model (default: the default text model)")
    args = parser.parse_args()

    from affectlens.registry import spec_or_default
    from affectlens.types import Modality

    comments, source = _comments()
    spec = spec_or_default(args.model, Modality.TEXT)
    rec = spec.build(threads=args.threads)
    rec.load()
    rec.analyze(comments[:64])  # warm-up
    rss_loaded = _peak_rss_mb()
    short = comments[: args.baseline]
    t0 = time.perf_counter()
    for start in range(0, len(short), 1024):
        rec.analyze(short[start : start + 1024])
    short_s = time.perf_counter() - t0
    rss_short = _peak_rss_mb()
    document = _document(comments, int(args.mb * 1_000_000))
    t0 = time.perf_counter()
    [result] = rec.analyze([document])
    doc_s = time.perf_counter() - t0
    mean_chars = sum(len(t) for t in short) / len(short)
    aggregate = result.segments[0]
    report = {
        "model": spec.name, "source": source, "threads": args.threads, "cpu_count": len(os.sched_getaffinity(0)),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "baseline_texts": len(short), "baseline_mean_chars": round(mean_chars, 1),
        "baseline_texts_per_s": round(len(short) / short_s, 1),
        "baseline_chars_per_s": round(sum(len(t) for t in short) / short_s),
        "document_chars": len(document), "document_seconds": round(doc_s, 1),
        "windows": aggregate.extras.get("windows", 1), "windows_per_s": round((len(result.segments) - 1) / doc_s, 1),
        "document_chars_per_s": round(len(document) / doc_s),
        "document_texts_per_s_equivalent": round(len(document) / doc_s / mean_chars, 1),
        "document_labels": list(aggregate.labels),
        "peak_rss_mb_after_load": round(rss_loaded, 1),
        "peak_rss_mb_after_baseline": round(rss_short, 1),
        "peak_rss_mb_after_document": round(_peak_rss_mb(), 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
