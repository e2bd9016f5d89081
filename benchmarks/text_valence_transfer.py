"""Valence out of domain: the text models' valence against MELD's sentiment labels.

Usage: python benchmarks/text_valence_transfer.py [--split test] [--model NAME ...]

EmoBank, where the VAD heads learnt, is news, essays and fiction; MELD is TV dialogue (Friends)
with a sentiment label per utterance (negative / neutral / positive), which no text model here
was trained on.  Prints, per model, the Spearman correlation of predicted valence with the
sentiment (-1 / 0 / 1) and the ROC AUC of valence for positive against negative utterances.
Needs ``../shared/datasets/meld`` (or ``AFFECTLENS_DATA``).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

DEFAULT_MODELS = ["text.minilm-goemotions.v1", "text.minilm-goemotions-float.v1", "peer.vader.v1"]


def main() -> None:
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    from affectlens import registry
    from affectlens.bench.datasets import load_meld

    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="test", choices=["train", "dev", "test"])
    parser.add_argument("--model", action="append", default=None)
    args = parser.parse_args()
    rows = [u for u in load_meld(args.split) if u.text.strip()]
    texts = [u.text for u in rows]
    sentiment = np.array([{"negative": -1, "neutral": 0, "positive": 1}[u.sentiment] for u in rows])
    report = {"split": args.split, "utterances": len(rows), "models": {}}
    for name in args.model or DEFAULT_MODELS:
        recognizer = registry.load_recognizer(name)
        valence = []
        for start in range(0, len(texts), 512):
            for result in recognizer.analyze(texts[start : start + 512]):
                segment = result.segments[0] if result.segments else None
                vad = segment.vad if segment is not None else None
                valence.append(vad.valence if vad is not None else np.nan)
        v = np.asarray(valence, dtype=float)
        scored = ~np.isnan(v)
        polar = scored & (sentiment != 0)
        report["models"][name] = {
            "scored": int(scored.sum()),
            "spearman_valence_sentiment": round(float(spearmanr(v[scored], sentiment[scored])[0]), 3),
            "auc_positive_vs_negative": round(float(roc_auc_score(sentiment[polar] > 0, v[polar])), 3),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
