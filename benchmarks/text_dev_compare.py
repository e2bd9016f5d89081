"""Dev-split comparison of text-model weights: what a recipe change is chosen by, before any test read.

For each ``NAME=WEIGHTS`` (a ``text_xcorpus`` checkpoint ``.pt``, a soup, or a shipped
``model.onnx`` whose int8 weights are dequantised), through the same fp32 torch path as
``benchmarks/text_loco.py`` (``TorchScorer``, first 128 word pieces, ``sigmoid(logits)``):

* GoEmotions dev macro-F1 over all 5,426 texts, thresholds tuned on dev itself (``ge_in``:
  the optimistic figure packaging reports) and two-fold cross-fitted (``ge_cross``: each half
  scored with the temperatures and thresholds of the other half, the honest dev estimate;
  ``text_xcorpus_variants.cross_fitted_macro_f1``);
* every Ekman corpus' dev macro-F1, scored as ``bench xcorpus`` scores its ``--model`` columns
  (GoEmotions probabilities summed into the official Ekman groups, argmax over the corpus'
  classes), and their mean.

No test split is read.  Logits are cached under ``--cache`` per weights file and texts.

    python benchmarks/text_dev_compare.py --cache /work/cache/text/dev \\
        v3=src/affectlens/models/text-minilm-xcorpus-v3/model.onnx soup=/work/artifacts/text11/soup/step1600.pt

Needs the ``train`` extra (torch, the MiniLM package) and the corpora.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # text_loco beside this file

from text_loco import TorchScorer, ekman_predictions

from affectlens import metrics as m
from affectlens.bench.xcorpus_data import CORPORA, EKMAN7, TRAINING_CORPORA, CorpusTexts, load_corpus

EKMAN_CORPORA = tuple(c for c in TRAINING_CORPORA if c != "goemotions")


def ekman_dev_macro_f1(logits: np.ndarray, data: CorpusTexts) -> float:
    """Macro-F1 over the classes the corpus is scored over, the bench's grouping and argmax."""
    labels = [EKMAN7.index(c) for c in CORPORA[data.corpus].scored_over]
    return float(m.macro_f1(data.ekman, ekman_predictions(logits, data), labels))


def goemotions_dev_figures(gold: np.ndarray, logits: np.ndarray) -> dict[str, float]:
    """In-sample (thresholds tuned on the same texts) and two-fold cross-fitted macro-F1."""
    from affectlens_recipes.text_xcorpus_variants import cross_fitted_macro_f1

    probs = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    in_sample = m.macro_f1_multilabel(gold, probs >= m.best_thresholds(gold, probs))
    return {"ge_in": round(float(in_sample), 4), "ge_cross": round(cross_fitted_macro_f1(gold, logits), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", nargs="+", metavar="NAME=WEIGHTS")
    parser.add_argument("--cache", type=Path, required=True, help="folder for the cached logits")
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    pairs = [item.partition("=") for item in args.weights]
    bad = [name for name, sep, path in pairs if not sep or not Path(path).is_file()]
    if bad:
        raise SystemExit(f"NAME=WEIGHTS with an existing file, not {bad}")

    from affectlens.bench.datasets import load_goemotions

    scorer = TorchScorer(args.cache)
    go = load_goemotions("dev", args.data_root)
    go_texts = CorpusTexts("goemotions-all", list(go.texts), [""] * len(go.texts),
                           np.zeros(len(go.texts), dtype=np.int64), [str(i) for i in range(len(go.texts))])
    corpora = {}
    for name in EKMAN_CORPORA:
        data = load_corpus(name, "dev", args.data_root)
        corpora[name] = data.select(np.flatnonzero(data.ekman >= 0))
    rows: dict[str, dict[str, Any]] = {}
    for name, _, path in pairs:
        weights = Path(path)
        row: dict[str, Any] = goemotions_dev_figures(go.labels.astype(int), scorer.logits(weights, go_texts))
        for corpus, data in corpora.items():
            row[corpus] = round(ekman_dev_macro_f1(scorer.logits(weights, data), data), 4)
        row["ekman_mean"] = round(float(np.mean([row[c] for c in corpora])), 4)
        rows[name] = row
        print(name, json.dumps(row), flush=True)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
