"""Train and evaluate the emotion-cause scorer on RECCON's DailyDialog portion.

    python -m affectlens_recipes.cause_reccon --out artifacts/cause    # features, fit, metrics, model folder

Task (RECCON causal emotion entailment, Poria et al. 2021): for every non-neutral turn
``t`` of a dialogue, each turn ``c <= t`` is a candidate; it is positive when the
annotators listed it as cause evidence (causes outside the dialogue, "b", are not
candidates).  The target's gold emotion is an input, as in RECCON.  Official
train/valid/test files; the regularisation (C) and the decision threshold are chosen on
valid by macro-F1; test is scored once, beside the trivial baseline "the turn causes
itself" in the same run.  Data: CC BY-NC-SA 4.0 (DailyDialog), RECCON annotations without a
license file: research, non-commercial use.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.dialogue.causes import CAUSE_EMOTIONS, DEFAULT_MODEL_DIR, pair_features

#: stray emotion names in the RECCON files -> DailyDialog's 7
FIX = {"happy": "happiness", "happines": "happiness", "sad": "sadness", "excited": "happiness",
       "surprised": "surprise", "angry": "anger"}
C_GRID = (0.003, 0.01, 0.03, 0.1)
THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.2, 0.81, 0.05))


def data_folder(root: Path | None) -> Path:
    from affectlens.bench.datasets import data_root

    return (root or data_root()) / "reccon_dailydialog"


def load_split(folder: Path, split: str) -> list[list[dict[str, Any]]]:
    raw = json.loads((folder / f"dailydialog_{split}.json").read_text(encoding="utf-8"))
    return [[dict(u, emotion=FIX.get(u["emotion"], u["emotion"])) for u in dialogue[0]] for dialogue in raw.values()]


def build_pairs(dialogues: list[list[dict[str, Any]]], features: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                        np.ndarray]:
    """Rows, labels, and the distance ``t - c`` of each pair (for the baseline)."""
    rows: list[np.ndarray] = []
    labels: list[int] = []
    distance: list[int] = []
    offset = 0
    for dialogue in dialogues:
        feats = features[offset: offset + len(dialogue)]
        speakers = [u["speaker"] for u in dialogue]
        for t, turn in enumerate(dialogue):
            if turn["emotion"] == "neutral":
                continue
            evidence = {e for e in turn.get("expanded emotion cause evidence", []) if isinstance(e, int)}
            rows.append(pair_features(feats, speakers, t, turn["emotion"]))
            labels.extend(int(dialogue[c]["turn"] in evidence) for c in range(t + 1))
            distance.extend(t - c for c in range(t + 1))
        offset += len(dialogue)
    return np.concatenate(rows), np.asarray(labels), np.asarray(distance)


def scores(y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import f1_score

    return {"positive_f1": round(float(f1_score(y, predicted)), 4),
            "negative_f1": round(float(f1_score(1 - y, 1 - predicted)), 4),
            "macro_f1": round(float(f1_score(y, predicted, average="macro")), 4)}


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    from affectlens.dialogue.context_model import TURN_ENCODER_FILE, TURN_ENCODER_SESSION_CONFIG
    from affectlens.models import sha256_file
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("artifacts/cause"))
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--target", type=Path, default=DEFAULT_MODEL_DIR)
    args = parser.parse_args()
    folder = data_folder(args.data_root)
    encoder = TextOnnxRecognizer(threads=1, session_config=TURN_ENCODER_SESSION_CONFIG,
                                  model_file=TURN_ENCODER_FILE)
    pairs = {}
    for split in ("train", "valid", "test"):
        dialogues = load_split(folder, split)
        features, _ = encoder.turn_features([u["utterance"] for d in dialogues for u in d])
        pairs[split] = build_pairs(dialogues, features)
    x_train, y_train, _ = pairs["train"]
    mean, scale = x_train.mean(0), x_train.std(0) + 1e-6
    standard = {s: (p[0] - mean) / scale for s, p in pairs.items()}
    best: tuple[float, float, float, Any] = (-1.0, 0.0, 0.0, None)
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=3000).fit(standard["train"], y_train)
        p_valid = model.predict_proba(standard["valid"])[:, 1]
        for threshold in THRESHOLDS:
            macro = scores(pairs["valid"][1], (p_valid >= threshold).astype(int))["macro_f1"]
            if macro > best[0]:
                best = (macro, c, threshold, model)
        print(f"C={c}: best valid macro-F1 so far {best[0]:.4f} (C={best[1]}, threshold {best[2]})", flush=True)
    _, c, threshold, model = best
    report: dict[str, Any] = {"chosen_on_valid": {"C": c, "threshold": threshold}, "pairs": {
        s: {"n": len(p[1]), "positive": int(p[1].sum())} for s, p in pairs.items()}}
    for split in ("valid", "test"):
        _, y, distance = pairs[split]
        predicted = (model.predict_proba(standard[split])[:, 1] >= threshold).astype(int)
        report[split] = {"model": scores(y, predicted), "baseline_self_cause": scores(y, (distance == 0).astype(int))}
        print(split, report[split], flush=True)
    args.target.mkdir(parents=True, exist_ok=True)
    np.savez(args.target / "model.npz", mean=mean.astype(np.float32), scale=scale.astype(np.float32),
             weights=model.coef_[0].astype(np.float32), bias=np.float32(model.intercept_[0]))
    config = {"name": "cause.reccon-logreg.v1", "threshold": threshold, "emotions": list(CAUSE_EMOTIONS),
              "features": "dialogue.causes.pair_features over TextOnnxRecognizer.turn_features",
              "sha256": {"model.npz": sha256_file(args.target / "model.npz")}}
    (args.target / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (args.target / "metrics.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.target}")


if __name__ == "__main__":
    main()
