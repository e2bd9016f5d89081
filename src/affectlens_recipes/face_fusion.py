"""Train and export ``face.ferplus-wild-fusion.v2``: the shipped CNN's appearance features + the
landmark geometry (action-unit-like measures) -> one linear head over the 8 FER+ labels.

Reads the caches of ``face_fusion_cache`` (run it first).  Training data: FER2013Train (soft
targets: the FER+ vote distribution) + the train split of faces_in_the_wild (one-hot, weighted
``--wild-weight`` per face); choices (geometry on/off, L2, wild weight, prior correction) and the
temperature use FER2013Valid and the in-the-wild *dev* split only; the test splits are scored
once, after the choice.  The head is a softmax regression (L-BFGS); its input standardisation is
folded into the weights, and it is appended to the shipped CNN's graph, which gains a second
input ``geometry`` [N, 9] (``features.face_geometry.geometry_vector``).

Usage::

    python -m affectlens_recipes.face_fusion --cache /work/cache/face --out artifacts/face/fusion
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.calibration import softmax
from affectlens.metrics import macro_f1
from affectlens_recipes.face import FERPLUS_LABELS, ece, scores
from affectlens_recipes.face_familiarity import Familiarity, choose_slope, fit_familiarity, graph_nodes
from affectlens_recipes.face_fusion_cache import BLURRED_PART, FEATURE_TENSOR, extra_cnn_key

N_LABELS = len(FERPLUS_LABELS)
#: the wild labels that have enough faces to score (fear 21 and contempt 9 in all: see SOURCE.md)
WILD_SCORED = tuple(range(6))
SEED = 25
#: what the exported config.json says of the weights (``affectlens models`` shows it)
LICENSE = ("research only (FER2013: no license; the in-the-wild photos: third-party, unclear rights; FER+ labels "
           "MIT); detector and landmarks: MediaPipe Apache-2.0; see model card")
TRAINING_DATA = ("FER2013 train faces with FER+ votes (CNN and head: 28k) + faces_in_the_wild train split "
                 "(1,844 photos, identity-disjoint)")


def load_cache(folder: Path, part: str, *, second: int = 0) -> dict[str, np.ndarray]:
    """One cached part with the features of its first ``second`` extra CNNs (``face_fusion_cache --second-cnn``)."""
    keep = [extra_cnn_key(i) for i in range(second)]
    wanted = {f"{kind}_{k}" for kind in ("features", "logits") for k in keep}
    with np.load(folder / f"fusion_{part}.npz", allow_pickle=False) as data:
        rows = {key: data[key] for key in data.files
                if key != "crops" and (not key.startswith(("features_", "logits_")) or key in wanted)}
    missing = [k for k in keep if f"features_{k}" not in rows]
    if missing:
        raise ValueError(f"{folder}: no features of extra CNN {missing} in fusion_{part}.npz "
                         "(run face_fusion_cache --second-cnn)")
    return rows


def fit_softmax(x: np.ndarray, targets: np.ndarray, weights: np.ndarray, *, l2: float, iters: int = 300
                ) -> tuple[np.ndarray, np.ndarray]:
    """Weighted softmax regression on soft targets (L-BFGS); x standardised; returns (W [D, L], b [L])."""
    from scipy.optimize import minimize

    d = x.shape[1]
    labels = targets.shape[1]
    total = float(weights.sum())

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: d * labels].reshape(d, labels), theta[d * labels :]
        p = softmax(x @ w + b)
        nll = -(weights[:, None] * targets * np.log(np.maximum(p, 1e-12))).sum() / total
        grad_z = weights[:, None] * (p - targets) / total
        gw = x.T @ grad_z + l2 * w
        return nll + 0.5 * l2 * float((w * w).sum()), np.concatenate([gw.ravel(), grad_z.sum(axis=0)])

    theta0 = np.zeros(d * labels + labels)
    result = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": iters})
    return result.x[: d * labels].reshape(d, labels), result.x[d * labels :]


def inputs(part: dict[str, np.ndarray], geometry: bool) -> np.ndarray:
    """The head's input: the CNN features (the first CNN's, then each extra CNN's in the part), then the geometry."""
    extra = sorted(k for k in part if k.startswith("features_"))
    blocks = [part["features"], *(part[k] for k in extra)]
    return np.hstack([*blocks, part["geometry"]] if geometry else blocks)


def head_inputs(part: dict[str, np.ndarray], weight: np.ndarray) -> np.ndarray:
    """``inputs`` with geometry, for a head that may read fewer CNNs' features than the part has: the
    first CNNs whose widths (each its own) add up to the head's input."""
    extra = sorted(k for k in part if k.startswith("features_"))
    width = part["features"].shape[1] + part["geometry"].shape[1]
    for n_extra in range(len(extra) + 1):
        if width == weight.shape[0]:
            return inputs({k: v for k, v in part.items() if k not in extra[n_extra:]}, True)
        if n_extra < len(extra):
            width += part[extra[n_extra]].shape[1]
    raise ValueError(f"a head of {weight.shape[0]} inputs reads no prefix of this part's CNN features")


def targets_of(part: dict[str, np.ndarray]) -> np.ndarray:
    if "votes" in part:
        votes = part["votes"].astype(np.float64)
        return np.asarray(votes / votes.sum(axis=1, keepdims=True))
    return np.eye(N_LABELS)[part["labels"]]


def labels_of(part: dict[str, np.ndarray]) -> np.ndarray:
    return np.asarray(part["votes"].argmax(axis=1) if "votes" in part else part["labels"])


def wild_part(wild: dict[str, np.ndarray], split: str) -> dict[str, np.ndarray]:
    mask = wild["splits"] == split
    return {key: value[mask] for key, value in wild.items()}


def macro_f1_over(true: np.ndarray, pred: np.ndarray, labels: tuple[int, ...]) -> float:
    """Macro-F1 over ``labels`` only (a class neither gold nor predicted scores 0), to 4 decimals."""
    return round(macro_f1(true, pred, labels), 4)


def evaluate(logits: np.ndarray, true: np.ndarray, *, wild: bool, temperature: float = 1.0) -> dict[str, Any]:
    probs = softmax(logits / temperature)
    pred = probs.argmax(axis=1)
    out = scores(true, pred)
    result = {"accuracy": out["accuracy"], "macro_f1": out["macro_f1"], "ece": float(ece(probs, true))}
    if wild:
        result["macro_f1_6"] = macro_f1_over(true, pred, WILD_SCORED)
    return result


class Head:
    """Standardisation + linear head + prior correction, as numpy (the exported graph does the same)."""

    def __init__(self, mean: np.ndarray, std: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> None:
        self.mean, self.std, self.weight, self.bias = mean, std, weight, bias

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(((x - self.mean) / self.std) @ self.weight + self.bias)

    def folded(self) -> tuple[np.ndarray, np.ndarray]:
        """(W, b) on raw inputs: ((x - m) / s) W + b = x (W / s) + (b - (m / s) W)."""
        weight = self.weight / self.std[:, None]
        return weight.astype(np.float32), (self.bias - (self.mean / self.std) @ self.weight).astype(np.float32)


#: class weights: frequency^-CLASS_POWER over the training majority labels (as the CNN's recipe)
CLASS_POWER = 0.5
#: prior corrections tried on dev: bias - alpha * log(class weight) (alpha 1 undoes the weights' shift)
ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def train_head(fer: dict[str, np.ndarray], wild: dict[str, np.ndarray], *, geometry: bool, l2: float,
               wild_weight: float, class_power: float = CLASS_POWER) -> tuple[Head, np.ndarray]:
    """The head (no prior correction yet) and the log class weights its bias must lose by alpha."""
    x = np.vstack([inputs(fer, geometry), inputs(wild, geometry)]).astype(np.float64)
    t = np.vstack([targets_of(fer), targets_of(wild)])
    majority = t.argmax(axis=1)
    counts = np.bincount(majority, minlength=N_LABELS).astype(np.float64) + 1.0
    class_w = (counts / counts.sum()) ** (-class_power)
    class_w /= class_w.mean()
    sample_w = np.concatenate([np.ones(len(fer["features"])), np.full(len(wild["features"]), wild_weight)])
    sample_w *= class_w[majority]
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    weight, bias = fit_softmax((x - mean) / std, t, sample_w, l2=l2)
    return Head(mean, std, weight, bias), np.log(class_w)


def corrected(head: Head, log_class_w: np.ndarray, alpha: float) -> Head:
    return Head(head.mean, head.std, head.weight, head.bias - alpha * log_class_w)


def choose(fer_train: dict[str, np.ndarray], fer_valid: dict[str, np.ndarray], wild: dict[str, np.ndarray]
           ) -> dict[str, Any]:
    """Every trial of the head's settings on the cached parts, the best one (with geometry), its ablation."""
    wild_train, wild_dev = wild_part(wild, "train"), wild_part(wild, "dev")
    trials, fits = [], {}
    # a small grid: each fit takes minutes on a loaded 2-core machine
    for geometry, l2, wild_weight in itertools.product((True, False), (1e-2,), (1.0, 4.0)):
        raw, log_class_w = train_head(fer_train, wild_train, geometry=geometry, l2=l2, wild_weight=wild_weight)
        fits[(geometry, l2, wild_weight)] = (raw, log_class_w)
        for alpha in ALPHAS:
            head = corrected(raw, log_class_w, alpha)
            valid = evaluate(head.logits(inputs(fer_valid, geometry)), labels_of(fer_valid), wild=False)
            dev = evaluate(head.logits(inputs(wild_dev, geometry)), labels_of(wild_dev), wild=True)
            criterion = (valid["accuracy"] + valid["macro_f1"]) / 2 + dev["macro_f1_6"]
            trial = {"geometry": geometry, "l2": l2, "wild_weight": wild_weight, "alpha": alpha,
                     "fer_valid": valid, "wild_dev": dev, "criterion": round(criterion, 4)}
            print(json.dumps(trial), flush=True)
            trials.append(trial)
    # the shipped head reads the geometry (the issue: the cues feed the decision); the best head
    # without it is reported beside it as the ablation
    best = max((t for t in trials if t["geometry"]), key=lambda t: t["criterion"])
    ablation = max((t for t in trials if not t["geometry"]), key=lambda t: t["criterion"])
    return {"trials": trials, "best": best, "without_geometry": ablation,
            "fit": fits[(True, best["l2"], best["wild_weight"])]}


def _strip_last_layer(graph: Any, feature_tensor: str, logits: str = "logits") -> None:
    """Remove everything after ``feature_tensor`` that leads to ``logits`` (the CNN's own last layer)."""
    tail = {logits}
    for node in reversed(list(graph.node)):
        if set(node.output) & tail and feature_tensor not in node.output:
            tail |= set(node.input) - {feature_tensor}
            graph.node.remove(node)
    used = {i for n in graph.node for i in n.input}
    for init in list(graph.initializer):
        if init.name not in used:
            graph.initializer.remove(init)


def export(model_dir: Path, head: Head, target: Path, *, temperature: float, name: str,
           feature_tensor: str = FEATURE_TENSOR, second_cnn: Sequence[Path] = (),
           familiarity: Familiarity | None = None) -> None:
    """The shipped CNN's graph with its last layer replaced by the fusion head (+ a geometry input);
    with ``second_cnn``, each extra CNN's layers (names prefixed ``b_``, ``c_``, ...) run on the same
    image and their features join the head's input after the first CNN's, in that order."""
    import shutil

    import onnx
    from onnx import TensorProto, compose, helper, numpy_helper

    from affectlens.features.face_geometry import GEOMETRY_FEATURES
    from affectlens.models import sha256_file
    from affectlens_recipes.face_fusion_cache import penultimate_tensor

    model = onnx.load(str(model_dir / "model.onnx"))
    graph = model.graph
    _strip_last_layer(graph, feature_tensor)
    features = [feature_tensor]
    for index, extra_dir in enumerate(second_cnn):
        prefix = extra_cnn_key(index) + "_"
        other = compose.add_prefix(onnx.load(str(extra_dir / "model.onnx")), prefix=prefix).graph
        other_features = prefix + penultimate_tensor(extra_dir / "model.onnx")
        _strip_last_layer(other, other_features, logits=prefix + "logits")
        for node in other.node:
            node.input[:] = ["image" if i == prefix + "image" else i for i in node.input]
        graph.node.extend(other.node)
        graph.initializer.extend(other.initializer)
        features.append(other_features)
    del graph.output[:]
    weight, bias = head.folded()
    graph.initializer.extend([numpy_helper.from_array(weight, "fusion.weight"),
                              numpy_helper.from_array(bias, "fusion.bias")])
    graph.input.append(helper.make_tensor_value_info("geometry", TensorProto.FLOAT, ["N", len(GEOMETRY_FEATURES)]))
    head_output = "logits" if familiarity is None else "fusion.logits"
    graph.node.extend([
        helper.make_node("Concat", [*features, "geometry"], ["fusion.input"], axis=1),
        helper.make_node("Gemm", ["fusion.input", "fusion.weight", "fusion.bias"], [head_output]),
    ])
    if familiarity is not None:  # logits / scale(distance from the training faces): face_familiarity
        nodes, inits = graph_nodes(familiarity, "fusion.input", head_output, "logits")
        graph.node.extend(nodes)
        graph.initializer.extend(inits)
    graph.output.append(helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", N_LABELS]))
    onnx.checker.check_model(model)
    target.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(target / "model.onnx"))
    config = json.loads((model_dir / "config.json").read_text())
    # the head learnt from crop + mirror averaged features (face_fusion_cache.appearance), whatever the
    # base CNN's own config said
    config.update({"temperature": temperature, "version": name.rsplit(".", 1)[-1], "name": name,
                   "mirror_average": True,
                   "geometry_input": "geometry", "geometry_features": list(GEOMETRY_FEATURES),
                   "license": LICENSE, "training_data": TRAINING_DATA, "variant": "int8",
                   "sha256": {"model.onnx": sha256_file(target / "model.onnx")}})
    (target / "config.json").write_text(json.dumps(config, indent=1) + "\n")
    if (model_dir / "MODEL_CARD.md").is_file() and not (target / "MODEL_CARD.md").exists():
        shutil.copy(model_dir / "MODEL_CARD.md", target / "BASE_MODEL_CARD.md")


def exported_head(model_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) of an exported fusion head, on raw [features, geometry] inputs."""
    import onnx
    from onnx import numpy_helper

    found = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(model_dir / "model.onnx")).graph.initializer}
    return found["fusion.weight"], found["fusion.bias"]


def paired_bootstrap(cache: Path, model_dir: Path, *, n_boot: int = 1000, seed: int = 0,
                     second: int = 0, against: Path | None = None) -> dict[str, Any]:
    """The shipped CNN (its own logits) — or the exported fusion head in ``against`` — against an
    exported fusion head, on the same cached test faces: each metric and the 95% interval of the
    difference over paired resamples.  Decisions are the head's argmax: a familiarity factor, a
    positive divisor per face, does not change them."""
    weight, bias = exported_head(model_dir)
    other = exported_head(against) if against is not None else None
    out: dict[str, Any] = {}
    wild = load_cache(cache, "wild", second=second)
    for name, part, labels in (("wild_test", wild_part(wild, "test"), WILD_SCORED),
                               ("fer_test", load_cache(cache, "test", second=second), tuple(range(N_LABELS)))):
        true = labels_of(part)
        base = (part["logits"] if other is None else head_inputs(part, other[0]) @ other[0] + other[1]).argmax(axis=1)
        fused = (head_inputs(part, weight) @ weight + bias).argmax(axis=1)
        rng = np.random.default_rng(seed)
        f1_diff, acc_diff = [], []
        for _ in range(n_boot):
            idx = rng.integers(0, len(true), len(true))
            f1_diff.append(macro_f1_over(true[idx], fused[idx], labels) - macro_f1_over(true[idx], base[idx], labels))
            acc_diff.append(float((fused[idx] == true[idx]).mean() - (base[idx] == true[idx]).mean()))
        out[name] = {"macro_f1": [macro_f1_over(true, base, labels), macro_f1_over(true, fused, labels)],
                     "accuracy": [round(float((base == true).mean()), 4), round(float((fused == true).mean()), 4)],
                     "macro_f1_diff_95": [round(float(v), 4) for v in np.percentile(f1_diff, [2.5, 97.5])],
                     "accuracy_diff_95": [round(float(v), 4) for v in np.percentile(acc_diff, [2.5, 97.5])]}
    return out


def main(argv: list[str] | None = None) -> None:
    from affectlens.recognizers.face_onnx import DEFAULT_MODEL_DIR

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--name", default="face.ferplus-wild-fusion.v2")
    parser.add_argument("--second-cnn", type=Path, action="append", default=[],
                        help="an extra CNN, repeatable (model folder; its features cached by face_fusion_cache "
                             "--second-cnn in the same order) whose features the head also reads; its graph "
                             "joins the export")
    parser.add_argument("--against", type=Path, default=None,
                        help="with --compare: the exported fusion model folder to compare with (default: the CNN)")
    parser.add_argument("--compare", type=Path, default=None,
                        help="only compare an exported fusion model folder with the shipped CNN (paired bootstrap)")
    args = parser.parse_args(argv)
    if args.compare is not None:
        print(json.dumps(paired_bootstrap(args.cache, args.compare, second=len(args.second_cnn),
                                          against=args.against), indent=1))
        return
    np.random.seed(SEED)
    second = len(args.second_cnn)
    fer_train, fer_valid, fer_test, wild = (load_cache(args.cache, p, second=second)
                                            for p in ("train", "valid", "test", "wild"))
    chosen = choose(fer_train, fer_valid, wild)
    best = chosen["best"]
    wild_dev, wild_test = (wild_part(wild, s) for s in ("dev", "test"))
    raw, log_class_w = chosen["fit"]
    head = corrected(raw, log_class_w, best["alpha"])
    geometry = bool(best["geometry"])
    # temperature and the familiarity factor (face_familiarity): one-hot majority labels of
    # FER2013Valid and the wild dev split together; the factor's distance is fitted on the training faces
    train_x = np.vstack([inputs(fer_train, geometry), inputs(wild_part(wild, "train"), geometry)])
    # the blurred FER2013Valid faces (when cached) are the dev faces unlike the training faces: without
    # them the dev set holds nothing far from training, and no factor can be chosen
    dev_parts = [fer_valid, wild_dev]
    if (args.cache / f"fusion_{BLURRED_PART}.npz").is_file():
        dev_parts.append(load_cache(args.cache, BLURRED_PART, second=second))
    dev_x = np.vstack([inputs(part, geometry) for part in dev_parts])
    dev_true = np.concatenate([labels_of(part) for part in dev_parts])
    familiar = np.arange(len(dev_true)) < len(fer_valid["features"]) + len(wild_dev["features"])
    familiarity, temperature, familiarity_trials = choose_slope(fit_familiarity(train_x), head.logits(dev_x), dev_x,
                                                                dev_true, familiar)

    def tested(part: dict[str, np.ndarray], wild_labels: bool) -> dict[str, Any]:
        x = inputs(part, geometry)
        found = evaluate(head.logits(x) / familiarity.scale(x)[:, None], labels_of(part), wild=wild_labels,
                         temperature=temperature)
        distance = familiarity.distance(x)
        found["distance_median"] = round(float(np.median(distance)), 4)
        found["beyond_reference"] = round(float((distance > familiarity.reference).mean()), 4)
        return found

    report = {"choice": best, "without_geometry": chosen["without_geometry"], "temperature": temperature,
              "familiarity": {"reference": round(familiarity.reference, 4), "slope": familiarity.slope,
                              "dev_parts": len(dev_parts), "trials": familiarity_trials},
              "trials": chosen["trials"],
              "test_once_after_choice": {"fer_test": tested(fer_test, False), "wild_test": tested(wild_test, True)}}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fusion_report.json").write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "trials"}, indent=1))
    export(args.model_dir, head, args.out / "model", temperature=temperature, name=args.name,
           second_cnn=args.second_cnn, familiarity=familiarity if familiarity.slope > 0 else None)


if __name__ == "__main__":
    main()
