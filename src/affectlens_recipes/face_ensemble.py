"""Average several trained FER+ CNNs into one ONNX graph and score the ensemble (after ``face``'s training runs).

    python -m affectlens_recipes.face_ensemble --target DIR RUN/model.onnx RUN2/model.onnx ...
    python -m affectlens_recipes.face install --out DIR ...      # then as for a single model
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from affectlens.bench.ferplus_data import load_split
from affectlens_recipes.face import _logits, _onnx_probs
from affectlens_recipes.face_scores import fer2013_private_accuracy, scores


def merge_onnx_average(paths: list[Path], target: Path) -> None:
    """One ONNX graph that runs every model on the shared ``image`` input and averages their ``logits``.

    Averaging logits ranks classes like averaging log-probabilities (they differ by a per-face
    constant per model), and one graph keeps the recognizer's single-session contract.
    """
    import onnx
    from onnx import TensorProto, compose, helper

    models = [onnx.load(str(p)) for p in paths]
    nodes: list[Any] = []
    initializers: list[Any] = []
    outputs = []
    for i, model in enumerate(models):
        graph = compose.add_prefix(model, prefix=f"m{i}_").graph
        for node in graph.node:
            node.input[:] = ["image" if name == f"m{i}_image" else name for name in node.input]
        nodes.extend(graph.node)
        initializers.extend(graph.initializer)
        outputs.append(f"m{i}_logits")
    initializers.append(helper.make_tensor("ensemble_scale", TensorProto.FLOAT, [], [1.0 / len(models)]))
    nodes += [helper.make_node("Sum", outputs, ["ensemble_sum"]),
              helper.make_node("Mul", ["ensemble_sum", "ensemble_scale"], ["logits"])]
    graph = helper.make_graph(nodes, "affectlens-face-ensemble", [models[0].graph.input[0]],
                              [models[0].graph.output[0]], initializers)
    merged = helper.make_model(graph, opset_imports=models[0].opset_import, ir_version=models[0].ir_version)
    onnx.checker.check_model(merged)
    onnx.save(merged, str(target))


def ensemble(args: argparse.Namespace) -> dict[str, Any]:
    """Average exported models (each with its own decision rule from ``retune``) into one graph.

    Valid decides: the ensemble is written only with the valid scores of every member and of
    the ensemble beside it (accuracy + macro-F1, the criterion of training and ``retune``);
    test is scored once for the record, as ``evaluate_and_export`` does.
    """
    from affectlens.models import sha256_file

    members, target, data = [Path(m) for m in args.members], Path(args.target), Path(args.data)
    mirrors = {bool(json.loads((m.parent / "config.json").read_text(encoding="utf-8")).get("mirror_average"))
               for m in members}
    if len(mirrors) > 1:
        raise SystemExit("members differ in mirror_average: re-export them with the same rule (retune)")
    mirror = mirrors.pop()
    target.mkdir(parents=True, exist_ok=True)
    merge_onnx_average(members, target / "model.onnx")
    valid, test = load_split(data, "valid"), load_split(data, "test")
    per_member = {str(m): scores(valid.majority, _logits(m, valid.images).argmax(1)) for m in members}
    valid_scores = scores(valid.majority, _logits(target / "model.onnx", valid.images, mirror=mirror).argmax(1))
    best_member = max(per_member.values(), key=lambda v: v["accuracy"] + v["macro_f1"])
    better = valid_scores["accuracy"] + valid_scores["macro_f1"] > best_member["accuracy"] + best_member["macro_f1"]
    test_probs = _onnx_probs(target / "model.onnx", test.images, mirror=mirror)
    config = json.loads((members[0].parent / "config.json").read_text(encoding="utf-8"))
    config.update({"temperature": 1.0, "sha256": {"model.onnx": sha256_file(target / "model.onnx")}})
    config.pop("name", None)
    config.pop("variant", None)
    metrics = {
        "data": "FER+ (fer2013new.csv votes) on FER2013 images, official splits",
        "ensemble": {"members": [str(m) for m in members], "valid_members": per_member, "valid_ensemble": valid_scores,
                     "better_than_best_member_on_valid": bool(better),
                     "rule": "mean of the members' logits (each member's mirror averaging and prior correction "
                             "from retune, chosen on valid)"},
        "ferplus_test_onnx_fp32": scores(test.majority, test_probs.argmax(1)),
        "fer2013_privatetest_7class": fer2013_private_accuracy(data, test, test_probs),
    }
    (target / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    (target / "metrics.json").write_text(json.dumps(metrics, indent=1), encoding="utf-8")
    print(f"valid: members {[(v['accuracy'], v['macro_f1']) for v in per_member.values()]}, ensemble "
          f"{valid_scores['accuracy']} / {valid_scores['macro_f1']} (better: {better})", flush=True)
    return metrics


def parse_ensemble_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m affectlens_recipes.face_ensemble")
    parser.add_argument("--data", default="../shared/datasets")
    parser.add_argument("--members", nargs="+", required=True, help="model.onnx files of retuned runs")
    parser.add_argument("--target", required=True, help="output folder (then: install --out TARGET)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    import sys

    ensemble(parse_ensemble_args(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
