"""How the cross-corpus text model is stored for analysis, chosen on dev only.

One encoder (``model_w8.onnx`` from ``text_xcorpus export``: int8 weights, float activations,
or a shipped folder's ``model.onnx``) is turned into several analysis graphs, each scored on
the **dev** splits through ``TextOnnxRecognizer`` (the users' code path), never on test:

* ``w8``: the graph as exported, onnxruntime's float path (weights folded to float at load);
  no VAD student;
* ``w8s``: the same with v1's 3-layer VAD student merged in (as in the shipped static graph);
* ``static`` (``static-0``, ``static-0-5``, ...): static int8 activations (QDQ, MinMax over
  512 GoEmotions train texts), the listed layers kept float, + the student (v2's storage);
* ``static-0+ffn``: as ``static-0`` with every feed-forward down-projection (``output/dense``,
  the MatMul after GELU, whose inputs have the widest range) kept float too;
* ``static-0+sq``: as ``static-0`` with the feed-forward down-projections smoothed first
  (``smoothquant``, alpha 0.5, on the same calibration texts), so they are static int8 too: on
  v4's weights dev cross-fitted GoEmotions 0.5143 vs 0.5149 (``+ffn``) and 0.5058 (plain), 1.1x
  ``+ffn``'s speed (``benchmarks/text_ab_speed.py``);
* ``static-0+pct``: activation ranges from the 99.999th percentile instead of min/max;
* ``+student8`` (after a static variant, e.g. ``static-0+ffn+student8``): the student's
  layer 0, float in every earlier storage, smoothed (``smoothquant.smooth_to_static_int8``,
  alpha 0.5, query/key/value sharing one scale) and static int8 too, so that the whole student
  is int8; it touches VAD only (the emotion logits are the same), for ~1.1x the speed;
* ``+ffn8`` (after ``+ffn``, e.g. ``static-0+ffn+student8+ffn8``): the encoder's six feed-forward
  down-projections that ``+ffn`` keeps float, smoothed the same way with alpha 0.75 and static
  int8 (on v4's weights: bagged cross-fitted GoEmotions dev 0.5176 vs 0.5170, EmoBank dev
  valence 0.7582 vs 0.7581, 1.17x the speed; alpha 0.5 lost 0.010 in-sample and 0.004 of r;
  GoEmotions test with the bagged thresholds 0.517, under the 0.52 floor: not shipped,
  ``docs/training.md``);
* ``+solo`` (after any static variant, e.g. ``static-0+ffn+solo``): without the student, the
  encoder's own VAD head alone (the student is a second, 3-layer encoder: a third of the cost);
* ``dynamic``: ``quantize_dynamic(per_channel=True)`` (v1's first storage) + the student.
  Its activation scales are chosen per batch, so a text's scores depend on its batch
  neighbours (``quantize.py``): measured here for comparison.

Per variant: GoEmotions dev macro-F1 over all 5,426 dev texts with temperatures and thresholds
fitted on dev (in-sample, as ``text_finalize`` reports dev) **and** two-fold cross-fitted (the
thresholds of one half of dev applied to the other, pooled: an honest dev estimate for
choosing), EmoBank dev Pearson r (the student's blend weights fitted on EmoBank dev).

    python -m affectlens_recipes.text_xcorpus_variants --w8 src/affectlens/models/text-minilm-xcorpus-v2/model.onnx \\
        --vad-scaling src/affectlens/models/text-minilm-xcorpus-v2/config.json --out /work/artifacts/text3/v2-variants
    python -m affectlens_recipes.text_xcorpus_variants --w8 /work/artifacts/text3/run/model_w8.onnx \\
        --out /work/artifacts/text3/run/variants --variants w8,w8s,static-0,dynamic
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.models import MODELS_DIR

V1_FOLDER = "text-minilm-goemotions-v1"
QDQ_FLOAT = {"session.disable_quant_qdq": "1"}
DEFAULT_VARIANTS = "w8,w8s,static-0,static-0+ffn,dynamic"
#: SmoothQuant's migration strength for ``+ffn8``: the GELU outputs' outliers need more of their
#: range moved into the weights than the student's layer-0 inputs (alpha 0.5) do (dev, module docstring)
FFN8_ALPHA = 0.75


def _vad_scaling(path: Path) -> dict[str, list[float]]:
    """``vad_scaling.json`` of a training folder, or the ``vad`` block of a model's config.json."""
    data = json.loads(path.read_text(encoding="utf-8"))
    vad = data.get("vad", data)
    return {"mean": vad["mean"], "std": vad["std"]}


def _probe(folder: Path, graph: Any, graph_file: str, session: dict[str, str], vad_scaling: dict[str, list[float]],
           w8: Path) -> Path:
    """A model folder around ``graph`` (temperatures 1, thresholds 0.5) that ``TextOnnxRecognizer`` opens."""
    import onnx

    from affectlens_recipes.text_static import read_shared_tensors_from

    folder.mkdir(parents=True, exist_ok=True)
    v1 = MODELS_DIR / V1_FOLDER
    config = json.loads((v1 / "config.json").read_text(encoding="utf-8"))
    n = len(config["labels"])
    config.update({"model_file": graph_file, "onnxruntime_session_config": session, "sha256": {},
                   "temperatures": [1.0] * n, "thresholds": [0.5] * n,
                   "vad": {**config["vad"], **vad_scaling}})
    config.pop("vad_branch", None)
    shutil.copyfile(w8, folder / "model.onnx")  # the donor of shared int8 weights, as in the shipped folders
    if graph is not None:
        read_shared_tensors_from(graph, folder / "model.onnx")
        onnx.save(graph, str(folder / graph_file))
    shutil.copyfile(v1 / "tokenizer.json", folder / "tokenizer.json")
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def _outputs(folder: Path, texts: list[str], names: list[str]) -> list[np.ndarray]:
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    rec = TextOnnxRecognizer(folder, verify=False, threads=1)
    result = [np.zeros((len(texts), 0), dtype=np.float32) for _ in names]
    parts: list[list[tuple[list[int], np.ndarray]]] = [[] for _ in names]
    for chunk, _, values in rec.first_window_batches(texts, names):
        for k, value in enumerate(values):
            parts[k].append((chunk, value))
    for k, pieces in enumerate(parts):
        width = pieces[0][1].shape[1]
        out = np.zeros((len(texts), width), dtype=np.float32)
        for chunk, value in pieces:
            out[chunk] = value
        result[k] = out
    return result


def _student() -> Any:
    from affectlens_recipes.text_static import extract_student

    return extract_student(MODELS_DIR / V1_FOLDER / "model_static.onnx")


def _static(folded: Path, target: Path, float_layers: list[int], ffn_float: bool, data_root: Path | None,
            percentile: bool = False) -> None:
    """Static int8 activations as ``quantize.quantize_encoder`` makes them, optionally FFN outputs float.

    ``percentile``: activation ranges from the 99.999th percentile of the calibration values
    instead of their min/max (outliers clipped, finer steps for the rest).
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    from affectlens_recipes.quantize import layer_matmuls, weight_only_int8
    from affectlens_recipes.text_static import _calibration

    calibration = _calibration(MODELS_DIR / V1_FOLDER / "tokenizer.json", data_root)

    class Reader(CalibrationDataReader):
        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(calibration, None)

    exclude = layer_matmuls(folded, float_layers)
    if ffn_float:
        exclude += _ffn_down_products(folded, float_layers)
    quantize_static(str(folded), str(target), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    op_types_to_quantize=["MatMul", "Gemm"], nodes_to_exclude=exclude,
                    calibrate_method=CalibrationMethod.Percentile if percentile else CalibrationMethod.MinMax,
                    extra_options={"CalibPercentile": 99.999} if percentile else {})
    weight_only_int8(target, target, gather_rows=True)


def _ffn_down_products(model_path: Path, float_layers: list[int]) -> list[str]:
    """The feed-forward down-projections (``layer.k/output/dense``) of the layers not kept float."""
    from affectlens_recipes.quantize import layer_matmuls

    return [name for name in layer_matmuls(model_path, [k for k in range(6) if k not in float_layers])
            if _is_ffn_down(name)]


def _is_ffn_down(node_name: str) -> bool:
    """A feed-forward down-projection (``layer.k/output/dense``, not the attention's ``output/dense``)."""
    return "/output/dense/" in node_name and "/attention/" not in node_name


def _smoothed(folded: Path, work: Path, float_layers: list[int], data_root: Path | None) -> Path:
    """``folded`` with its FFN down-projections smoothed (``smoothquant``), on the static calibration texts."""
    from affectlens_recipes.smoothquant import smooth_matmuls
    from affectlens_recipes.text_static import _calibration

    target = work / "encoder_float_sq.onnx"
    feeds = _calibration(MODELS_DIR / V1_FOLDER / "tokenizer.json", data_root)
    ranges = smooth_matmuls(folded, target, _ffn_down_products(folded, float_layers), feeds)
    print(json.dumps({"smoothquant_range_reduction": ranges}), flush=True)
    return target


def _student_static(merged: Any, data_root: Path | None) -> dict[str, float]:
    """The student's float layer-0 products made static int8 after SmoothQuant (``+student8``), in place."""
    from affectlens_recipes.smoothquant import float_input_products
    from affectlens_recipes.text_static import STUDENT_PREFIX

    products = float_input_products(merged, f"{STUDENT_PREFIX}/encoder/encoder/layer.0/")
    return _smoothed_static(merged, products, "the student's layer-0 products", data_root)


def _ffn_static(merged: Any, data_root: Path | None) -> dict[str, float]:
    """The encoder's float feed-forward down-projections made static int8 after SmoothQuant (``+ffn8``), in place."""
    from affectlens_recipes.smoothquant import float_input_products

    products = [name for name in float_input_products(merged, "/encoder/encoder/layer.") if _is_ffn_down(name)]
    return _smoothed_static(merged, products, "feed-forward down-projections", data_root, FFN8_ALPHA)


def _smoothed_static(merged: Any, products: list[str], what: str, data_root: Path | None,
                     alpha: float | None = None) -> dict[str, float]:
    """``smooth_to_static_int8`` of ``products`` on the static calibration texts (alpha: its default if None)."""
    from affectlens_recipes.smoothquant import ALPHA, smooth_to_static_int8
    from affectlens_recipes.text_static import _calibration

    if not products:
        raise ValueError(f"the merged graph has no float-input {what}")
    feeds = list(_calibration(MODELS_DIR / V1_FOLDER / "tokenizer.json", data_root))  # read twice
    return smooth_to_static_int8(merged, products, feeds, ALPHA if alpha is None else alpha)


def build(variant: str, w8: Path, work: Path, vad_scaling: dict[str, list[float]], data_root: Path | None) -> Path:
    """The probe folder of one variant (``work/<variant>``), its student blend fitted on EmoBank dev."""
    import onnx

    from affectlens.bench.datasets import load_emobank
    from affectlens_recipes.quantize import fold_int8_weights
    from affectlens_recipes.text_static import merge_vad_student, set_blend
    from affectlens_recipes.text_teacher import fit_blend

    folder = work / variant
    work.mkdir(parents=True, exist_ok=True)
    solo = variant.endswith("+solo")
    if solo and not variant.startswith("static-"):
        raise ValueError(f"+solo follows a static variant (static-<layers>[+ffn][+pct]+solo), not {variant!r}")
    variant = variant.removesuffix("+solo")
    if variant == "w8":
        return _probe(folder, None, "model.onnx", QDQ_FLOAT, vad_scaling, w8)
    folded = work / "encoder_float.onnx"
    if not folded.exists():
        fold_int8_weights(w8, folded)
    session: dict[str, str] = {}
    if variant == "w8s":
        main, session = onnx.load(str(w8)), QDQ_FLOAT
    elif variant == "dynamic":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        target = work / "encoder_dynamic.onnx"
        quantize_dynamic(str(folded), str(target), per_channel=True, weight_type=QuantType.QInt8)
        main = onnx.load(str(target))
    elif variant.startswith("static-"):
        spec, *flags = variant.removeprefix("static-").split("+")
        if set(flags) - {"ffn", "pct", "sq", "student8", "ffn8"} or {"ffn", "sq"} <= set(flags):
            raise ValueError(f"unknown flags in {variant!r} (static-<layers>[+ffn|+sq][+pct][+student8][+ffn8])")
        if solo and "student8" in flags:
            raise ValueError(f"{variant!r}: +student8 quantizes the student, which +solo leaves out")
        if "ffn8" in flags and ("ffn" not in flags or solo):
            raise ValueError(f"{variant!r}: +ffn8 quantizes what +ffn keeps float, in the merged graph (no +solo)")
        layers = [int(k) for k in spec.split("-") if k]
        target = work / f"encoder_{variant}.onnx"
        source = _smoothed(folded, work, layers, data_root) if "sq" in flags else folded
        _static(source, target, layers, "ffn" in flags, data_root, "pct" in flags)
        main = onnx.load(str(target))
    else:
        raise ValueError(f"unknown variant {variant!r}")
    if solo:
        return _probe(folder, main, "model_static.onnx", session, vad_scaling, w8)
    student = _student()
    have = {o.domain for o in main.opset_import}
    # the float export names no ai.onnx.ml opset, which the student's int8 tables declare: add it
    main.opset_import.extend(o for o in student.opset_import if o.domain not in have)
    merged = merge_vad_student(main, student, [0.0, 0.0, 0.0])
    if "student8" in variant.split("+"):
        print(json.dumps({"student_smoothquant_range_reduction": _student_static(merged, data_root)}), flush=True)
    if "ffn8" in variant.split("+"):
        print(json.dumps({"ffn_smoothquant_range_reduction": _ffn_static(merged, data_root)}), flush=True)
    probe = _probe(folder, merged, "model_static.onnx", session, vad_scaling, w8)
    dev = load_emobank("dev", data_root)
    vad_encoder, vad_student = _outputs(probe, dev.texts, ["vad_encoder", "vad_student"])
    weights = fit_blend(dev.vad, vad_encoder, vad_student)
    set_blend(merged, weights)
    return _probe(folder, merged, "model_static.onnx", session, vad_scaling, w8)


def cross_fitted_macro_f1(gold: np.ndarray, logits: np.ndarray) -> float:
    """Macro-F1 over all of dev with each half's temperatures and thresholds fitted on the other half."""
    from affectlens.calibration import fit_temperatures
    from affectlens.metrics import best_thresholds, macro_f1_multilabel

    halves = [np.arange(len(gold))[k::2] for k in (0, 1)]
    pred = np.zeros(gold.shape, dtype=bool)
    for fit, apply in (halves, halves[::-1]):
        temps = fit_temperatures(logits[fit], gold[fit])
        thresholds = best_thresholds(gold[fit], 1.0 / (1.0 + np.exp(-logits[fit] / temps)))
        pred[apply] = 1.0 / (1.0 + np.exp(-logits[apply] / temps)) >= thresholds
    return float(macro_f1_multilabel(gold, pred))


def score_dev(folder: Path, vad_scaling: dict[str, list[float]], data_root: Path | None) -> dict[str, Any]:
    from affectlens.bench.datasets import load_emobank, load_goemotions
    from affectlens.calibration import fit_temperatures
    from affectlens.metrics import best_thresholds, macro_f1_multilabel, pearson

    go, eb = load_goemotions("dev", data_root), load_emobank("dev", data_root)
    start = time.perf_counter()
    (logits,) = _outputs(folder, go.texts, ["logits"])
    seconds = time.perf_counter() - start
    temps = fit_temperatures(logits, go.labels)
    probs = 1.0 / (1.0 + np.exp(-logits / temps))
    in_sample = macro_f1_multilabel(go.labels, probs >= best_thresholds(go.labels, probs))
    (vad,) = _outputs(folder, eb.texts, ["vad"])
    vad = vad * np.asarray(vad_scaling["std"]) + np.asarray(vad_scaling["mean"])
    np.save(folder / "goemotions_dev_logits.npy", logits)
    return {
        "goemotions_dev_macro_f1_in_sample": round(float(in_sample), 4),
        "goemotions_dev_macro_f1_cross_fitted": round(cross_fitted_macro_f1(go.labels, logits), 4),
        "emobank_dev_r": [round(pearson(eb.vad[:, k], vad[:, k]), 4) for k in range(3)],
        "goemotions_dev_texts_per_s_1_thread": round(len(go.texts) / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--w8", type=Path, required=True, help="model_w8.onnx (or a folder's model.onnx)")
    parser.add_argument("--vad-scaling", type=Path, default=None,
                        help="vad_scaling.json or a config.json (default: vad_scaling.json beside --w8)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--variants", default=DEFAULT_VARIANTS, help="comma-separated (see above)")
    parser.add_argument("--data-root", type=Path, default=None)
    args = parser.parse_args()
    scaling = _vad_scaling(args.vad_scaling or args.w8.parent / "vad_scaling.json")
    args.out.mkdir(parents=True, exist_ok=True)
    report_path = args.out / "variants_dev.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    for variant in [v.strip() for v in args.variants.split(",") if v.strip()]:
        folder = build(variant, args.w8, args.out, scaling, args.data_root)
        report[variant] = score_dev(folder, scaling, args.data_root)
        print(json.dumps({variant: report[variant]}), flush=True)
        report_path.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
