"""Which Whisper encoder blocks carry emotion: heads on each block's pooled states, in-corpus and leave-one-corpus-out.

    python benchmarks/speech_layer_probe.py --cache /work/cache/speech/xc --model base \
        [--candidates 3 4 3+4 2+3+4 6] [--data /path/to/datasets]

Every block of the encoder (``audio.whisper_layers``) is encoded once per clip and cached as the window
``MODEL@1+2+...+N`` (``affectlens_recipes.speech_whisper_cache``; resumable); a candidate is a set of
blocks whose pooled mean and std columns are taken from it.  Each candidate gets the heads recipe of
``bench speech-xcorpus`` (``speech_xcorpus.fit_heads``, C = 0.05, per lone clip: the ``global``
normalisation) and is scored on the in-corpus speaker-independent folds of the four corpora (the
choice criterion: their mean UAR) and leave-one-corpus-out.  One JSON line per candidate.

This is how ``speech.whisper-xcorpus.v3``'s blocks (3 and 4 of base's 6) were chosen: the smallest
set within 0.002 of the best in-corpus mean (its model card has the table).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from affectlens_recipes import speech_xcorpus as sx
from affectlens_recipes.speech_corpora import CORPORA, load_corpus
from affectlens_recipes.speech_whisper_cache import block_columns, extract

BLOCKS = {"tiny.en": 4, "base": 6}
STATE_DIM = {"tiny.en": 384, "base": 512}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--model", choices=tuple(BLOCKS), default="base")
    parser.add_argument("--candidates", nargs="+", default=None, help="block sets such as 3, 3+4 (default: each "
                                                                         "block alone and each adjacent pair)")
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    n, dim = BLOCKS[args.model], STATE_DIM[args.model]
    every_block = tuple(range(1, n + 1))
    window = f"{args.model}@" + "+".join(str(b) for b in range(1, n + 1))
    for corpus in CORPORA:
        extract(load_corpus(corpus, args.data), args.cache / window / f"{corpus}.npz", window=window, threads=1)
    full = sx.load_features(args.cache, window, CORPORA)
    candidates = args.candidates or [str(b) for b in range(1, n + 1)] + [f"{b}+{b + 1}" for b in range(1, n)]
    for candidate in candidates:
        blocks = tuple(int(b) for b in candidate.split("+"))
        started = time.time()
        data = sx.Dataset(full.x[:, block_columns(blocks, every_block, dim)], full.corpus, full.speaker, full.label,
                          full.fold, full.seconds)
        in_corpus = {c: sx.in_corpus_folds(data, c, "global") for c in CORPORA}
        loco = sx.leave_one_corpus_out(data, "global")
        print(json.dumps({
            "model": args.model, "blocks": candidate,
            "in_corpus_mean": round(float(np.mean([v["uar_mean"] for v in in_corpus.values()])), 4),
            "in_corpus": {c: v["uar_mean"] for c, v in in_corpus.items()},
            "ravdess_arousal_accuracy": in_corpus["ravdess"]["arousal_accuracy_mean"],
            "loco": {c: v["uar"] for c, v in loco.items()}, "seconds": round(time.time() - started, 1)}), flush=True)


if __name__ == "__main__":
    main()
