"""Faithfulness of the text model's word cues (deletion test).

Usage: python benchmarks/text_explanations.py [--n 1000] [--k 1 2] [--cues decomposition|occlusion]
                                                [--model NAME]

The model: the default text model, as ``affectlens analyze`` picks it, or ``--model`` (until
session 15 it was always v1's folder, the recognizer class's own default).

For texts of the GoEmotions test split (or the shipped examples) whose top predicted
label is not neutral: delete the k words the explanation ranks highest for that label,
and, separately, k words drawn at random from the rest (seeded); re-score and compare
how much the label's calibrated probability falls.  Faithful cues fall far more.
"""

from __future__ import annotations

import argparse
import json
import random
import time

import numpy as np


def _drops(targets: list[tuple[str, float]], after: list) -> np.ndarray:  # type: ignore[type-arg]
    """How far each target label's probability fell once words were deleted."""
    return np.asarray([p - (r.segments[0].scores[label] if r.segments else 0.0)
                       for (label, p), r in zip(targets, after, strict=True)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--k", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cues", choices=["decomposition", "occlusion"], default="decomposition")
    parser.add_argument("--model", default=None, help="a registered text model (default: the default text model)")
    args = parser.parse_args()

    from pathlib import Path

    from affectlens.bench.datasets import DatasetMissing, load_goemotions
    from affectlens.explain.text import delete_words, word_spans
    from affectlens.registry import spec_or_default
    from affectlens.types import Modality

    rng = random.Random(args.seed)
    try:
        texts = load_goemotions("test").texts[: args.n]
        source = "GoEmotions test split"
    except DatasetMissing:
        examples = Path(__file__).resolve().parents[1] / "src/affectlens/examples/sentences.txt"
        texts = [t for t in examples.read_text(encoding="utf-8").splitlines() if t.strip()][: args.n]
        source = "shipped example sentences (GoEmotions not found)"
    spec = spec_or_default(args.model, Modality.TEXT)
    rec = spec.build(n_cues=max(args.k), cues=args.cues)
    started = time.perf_counter()
    results = rec.analyze(texts)
    seconds = time.perf_counter() - started
    rec.cues = "decomposition"  # the deleted variants are only re-scored
    report: dict[str, object] = {"model": spec.name, "texts": source, "texts_considered": len(texts), "seed": args.seed,
                                 "cues": args.cues, "texts_per_s_with_cues": round(len(texts) / seconds, 1)}
    for k in args.k:
        cue_variants: list[str] = []
        rand_variants: list[str] = []
        targets: list[tuple[str, float]] = []
        for text, res in zip(texts, results, strict=True):
            seg = res.segments[0]
            label = seg.labels[0]
            spans = word_spans(text)
            cue_spans = [c.span for c in seg.cues if c.label == label and c.span][:k]
            if label == "neutral" or len(cue_spans) < k or len(spans) < k + 3:
                continue
            others = [s for s in spans if s not in cue_spans]
            cue_variants.append(delete_words(text, cue_spans))  # type: ignore[arg-type]
            rand_variants.append(delete_words(text, rng.sample(others, k)))
            targets.append((label, seg.scores[label]))
        cue_scores = rec.analyze(cue_variants)
        rand_scores = rec.analyze(rand_variants)

        cue_drop, rand_drop = _drops(targets, cue_scores), _drops(targets, rand_scores)
        report[f"k={k}"] = {
            "texts": len(targets),
            "mean_prob_drop_removing_top_cues": round(float(cue_drop.mean()), 4),
            "mean_prob_drop_removing_random_words": round(float(rand_drop.mean()), 4),
            "ratio": round(float(cue_drop.mean() / max(rand_drop.mean(), 1e-6)), 2),
            "share_where_cue_removal_hurts_more": round(float((cue_drop > rand_drop).mean()), 4),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
