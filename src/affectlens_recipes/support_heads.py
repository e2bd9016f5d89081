"""The support model's heads: fit on ESConv train, choose on valid, export to ONNX (see ``training/support``).

Both heads are multinomial logistic regressions over standardised inputs; the
standardisation is folded into the weights, so each ONNX file is a single ``Gemm``
(``features [n, d]`` -> ``logits [n, 8]``).  The ``suggest`` head's temperature is fitted
on valid (``calibration.fit_softmax_temperature``) and kept in ``config.json``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.bench.esconv_data import load_esconv
from affectlens.calibration import fit_softmax_temperature, softmax
from affectlens.dialogue.support_features import (
    N_STRATEGIES,
    STRATEGIES,
    observe_inputs,
    suggest_inputs,
)

SEED = 13
FOLDS = 3
# small grids: every fit ran on a 2-core machine shared by several jobs (load average 13-21)
C_GRID = (0.01, 0.05)
#: class weights (frequency ** -power): 0 = none, 1 = balanced; chosen on valid
POWER_GRID = (0.5, 1.0)
OBSERVE_C_GRID = (0.05,)


@dataclass(frozen=True)
class Encoded:
    """One ESConv dialogue with its turns encoded."""

    features: np.ndarray  # [turns, 796]
    vad: np.ndarray  # [turns, 3]
    is_supporter: np.ndarray  # [turns] bool
    gold: list[str | None]  # strategy per turn (None on seeker turns)


MODEL_NAME = "support-esconv-minilm-v1"


def load_encoded(folder: Path, split: str, data_root: Path | None) -> list[Encoded]:
    data = np.load(folder / f"{split}.npz")
    features, vad = data["features"].astype(np.float32), data["vad"].astype(np.float32)
    out: list[Encoded] = []
    start = 0
    for dialogue in load_esconv(split, data_root):
        end = start + len(dialogue.texts)
        out.append(Encoded(features[start:end], vad[start:end],
                           np.array([s == "sys" for s in dialogue.speakers]), list(dialogue.strategies)))
        start = end
    if start != len(features):
        raise ValueError(f"{split}: {len(features)} encoded turns but {start} in the corpus")
    return out


@dataclass(frozen=True)
class LinearHead:
    """``logits = x @ weight.T + bias`` (standardisation folded in)."""

    weight: np.ndarray  # [8, d]
    bias: np.ndarray  # [8]

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x @ self.weight.T + self.bias, dtype=np.float64)


def fit_head(x: np.ndarray, y: np.ndarray, c: float, power: float) -> LinearHead:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(0)
    std = x.std(0) + 1e-6
    z = (x - mean) / std
    counts = np.bincount(y, minlength=N_STRATEGIES).astype(np.float64)
    class_weight = {k: float((counts[k] / counts.sum()) ** -power) for k in range(N_STRATEGIES) if counts[k]}
    model = LogisticRegression(C=c, max_iter=300, tol=1e-3, class_weight=class_weight, random_state=SEED)
    model.fit(z, y)
    weight = model.coef_ / std
    bias = model.intercept_ - (model.coef_ * (mean / std)).sum(1)
    return LinearHead(weight.astype(np.float32), bias.astype(np.float32))


def observe_matrix(dialogues: list[Encoded]) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    rows, labels, where = [], [], []
    for d, dialogue in enumerate(dialogues):
        for i, strategy in enumerate(dialogue.gold):
            if strategy is not None:
                rows.append(observe_inputs(dialogue.features, dialogue.is_supporter, i))
                labels.append(STRATEGIES.index(strategy))
                where.append((d, i))
    return np.stack(rows), np.array(labels), where


def read_history(dialogues: list[Encoded], probs: np.ndarray, where: list[tuple[int, int]]) -> list[np.ndarray]:
    """Per dialogue: ``[turns, 8]`` observed strategy probabilities (zeros on seeker turns)."""
    out = [np.zeros((len(d.gold), N_STRATEGIES), dtype=np.float32) for d in dialogues]
    for (d, i), p in zip(where, probs, strict=True):
        out[d][i] = p
    return out


def suggest_matrix(dialogues: list[Encoded], history: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    for dialogue, probs in zip(dialogues, history, strict=True):
        for i, strategy in enumerate(dialogue.gold):
            if strategy is not None:
                rows.append(suggest_inputs(dialogue.features, dialogue.vad, dialogue.is_supporter, probs, i))
                labels.append(STRATEGIES.index(strategy))
    return np.stack(rows), np.array(labels)


def scores(y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    from affectlens.metrics import accuracy, macro_f1, weighted_f1

    labels = list(range(N_STRATEGIES))
    return {"accuracy": round(accuracy(y, predicted), 4), "macro_f1": round(macro_f1(y, predicted, labels), 4),
            "weighted_f1": round(weighted_f1(y, predicted, labels), 4)}


def train(out: Path, data_root: Path | None) -> dict[str, Any]:
    started = time.perf_counter()
    splits = {s: load_encoded(out, s, data_root) for s in ("train", "valid", "test")}
    # observe head: choose C on valid
    x_obs = {s: observe_matrix(d) for s, d in splits.items()}
    best_obs: tuple[float, float] | None = None
    observe_log = []
    for c in OBSERVE_C_GRID:
        head = fit_head(x_obs["train"][0], x_obs["train"][1], c, 0.0)
        m = scores(x_obs["valid"][1], head.logits(x_obs["valid"][0]).argmax(1))
        observe_log.append({"C": c, **m})
        print(f"observe C={c}: valid {m}", flush=True)
        if best_obs is None or m["accuracy"] > best_obs[1]:
            best_obs = (c, m["accuracy"])
    assert best_obs is not None
    obs_c = best_obs[0]
    observe = fit_head(x_obs["train"][0], x_obs["train"][1], obs_c, 0.0)
    obs_t = fit_softmax_temperature(observe.logits(x_obs["valid"][0]), x_obs["valid"][1])
    # out-of-fold readings of train's history (what the suggest head sees at run time)
    x_tr, y_tr, where_tr = x_obs["train"]
    dialogue_of = np.array([d for d, _ in where_tr])
    fold_of = np.random.default_rng(SEED).permutation(len(splits["train"])) % FOLDS
    oof = np.zeros((len(y_tr), N_STRATEGIES))
    for k in range(FOLDS):
        test_rows = fold_of[dialogue_of] == k
        head = fit_head(x_tr[~test_rows], y_tr[~test_rows], obs_c, 0.0)
        oof[test_rows] = softmax(head.logits(x_tr[test_rows]), obs_t)
        print(f"observe fold {k} done", flush=True)
    history = {"train": read_history(splits["train"], oof, where_tr)}
    for s in ("valid", "test"):
        x, _, where = x_obs[s]
        history[s] = read_history(splits[s], softmax(observe.logits(x), obs_t), where)
    sug = {s: suggest_matrix(splits[s], history[s]) for s in splits}
    best: tuple[float, float, float] | None = None
    suggest_log = []
    for c in C_GRID:
        for power in POWER_GRID:
            head = fit_head(sug["train"][0], sug["train"][1], c, power)
            m = scores(sug["valid"][1], head.logits(sug["valid"][0]).argmax(1))
            suggest_log.append({"C": c, "class_weight_power": power, **m})
            print(f"suggest C={c} power={power}: valid {m}", flush=True)
            # one number to choose by: accuracy and macro-F1 count alike
            value = m["accuracy"] + m["macro_f1"]
            if best is None or value > best[2]:
                best = (c, power, value)
    assert best is not None
    c, power, _ = best
    suggest = fit_head(sug["train"][0], sug["train"][1], c, power)
    temperature = fit_softmax_temperature(suggest.logits(sug["valid"][0]), sug["valid"][1])
    test_pred = suggest.logits(sug["test"][0]).argmax(1)
    obs_test = observe.logits(x_obs["test"][0]).argmax(1)
    report = {
        "observe": {"C": obs_c, "temperature": obs_t, "valid_grid": observe_log,
                    "test": scores(x_obs["test"][1], obs_test)},
        "suggest": {"C": c, "class_weight_power": power, "temperature": temperature, "valid_grid": suggest_log,
                    "valid": scores(sug["valid"][1], suggest.logits(sug["valid"][0]).argmax(1)),
                    "test": scores(sug["test"][1], test_pred)},
        "train_seconds": round(time.perf_counter() - started, 1),
        "input_dims": {"observe": int(x_tr.shape[1]), "suggest": int(sug["train"][0].shape[1])},
    }
    np.savez(out / "heads.npz", observe_w=observe.weight, observe_b=observe.bias,
             suggest_w=suggest.weight, suggest_b=suggest.bias)
    (out / "train_report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps({k: report[k] for k in ("observe", "suggest")}, indent=1)[:3000], flush=True)
    return report


def linear_onnx(head: LinearHead, name: str) -> Any:
    """A one-``Gemm`` ONNX model: ``features [n, d]`` -> ``logits [n, 8]``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    d = head.weight.shape[1]
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["features", "weight", "bias"], ["logits"], transB=1)], name,
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", d])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", N_STRATEGIES])],
        [numpy_helper.from_array(head.weight.astype(np.float32), "weight"),
         numpy_helper.from_array(head.bias.astype(np.float32), "bias")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="affectlens")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def finalize(out: Path, model_dir: Path | None = None) -> Path:
    """Write the heads as ONNX into the model folder, with config (hashes) and the training report."""
    import onnx

    from affectlens.dialogue.context_model import TURN_ENCODER_FILE, TURN_ENCODER_SESSION_CONFIG
    from affectlens.models import MODELS_DIR, sha256_file

    target = model_dir or MODELS_DIR / MODEL_NAME
    target.mkdir(parents=True, exist_ok=True)
    heads = np.load(out / "heads.npz")
    report = json.loads((out / "train_report.json").read_text(encoding="utf-8"))
    files = {}
    for mode in ("observe", "suggest"):
        filename = f"head_{mode}.onnx"
        onnx.save(linear_onnx(LinearHead(heads[f"{mode}_w"], heads[f"{mode}_b"]), f"support_{mode}"),
                  str(target / filename))
        files[mode] = filename
    text_dir = MODELS_DIR / "text-minilm-goemotions-v1"
    config = {
        "name": "support.esconv-minilm.v1", "version": "v1", "label_set": "esconv_strategies",
        "labels": list(STRATEGIES), "heads": files,
        "temperatures": {mode: report[mode]["temperature"] for mode in ("observe", "suggest")},
        "input_dims": report["input_dims"],
        "encoder": {"model": "text.minilm-goemotions.v1", "file": TURN_ENCODER_FILE,
                    f"{TURN_ENCODER_FILE} sha256": sha256_file(text_dir / TURN_ENCODER_FILE),
                    "max_tokens": 128, "onnxruntime_session_config": TURN_ENCODER_SESSION_CONFIG},
        "sha256": {f: sha256_file(target / f) for f in files.values()},
    }
    (target / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (target / "training.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {target}", flush=True)
    return target


__all__ = ["Encoded", "LinearHead", "finalize", "fit_head", "linear_onnx", "load_encoded", "train"]
