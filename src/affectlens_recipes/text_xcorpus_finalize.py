"""Package the cross-corpus successor like v1: static int8 graph with v1's VAD student merged in.

After ``text_xcorpus export`` (``out/model_w8.onnx``: int8 weights, float activations, v1's
outputs)::

    python -m affectlens_recipes.text_xcorpus_finalize --out /work/artifacts/text2 [--install]

1. ``model_w8.onnx`` becomes the folder's ``model.onnx`` (float activations; what the static
   graph reads its shared int8 weights from);
2. it is folded to float and given static int8 activations, layer 0 float (v1's recipe,
   ``text_static``);
3. v1's 3-layer VAD student is cut out of v1's ``model_static.onnx`` (``extract_student``: the
   nodes between the token inputs and ``vad_student``, already static int8) and merged in; the
   blend weights are re-fitted on EmoBank dev against the new encoder's VAD;
4. ``text_finalize.finalize``: temperatures and thresholds on GoEmotions dev, test scored once;
   then the config and metrics get the successor's name.

``--version v3 --storage static-0+ffn`` (or any variant of ``text_xcorpus_variants``, chosen on
dev there) packages the same way under ``text.minilm-xcorpus.v3``: that module builds the
graph and fits the student's blend, this one calibrates, scores test once and stages the folder
in ``out/model-<storage>`` (``--install`` copies it into ``models/text-minilm-xcorpus-<version>``,
which no spec registers: the v3 run was not shipped, ``docs/training.md``)::

    python -m affectlens_recipes.text_xcorpus_finalize --out /work/artifacts/text3/run --version v3 \
        --storage static-0+ffn
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from affectlens.models import MODELS_DIR
from affectlens_recipes.text_static import extract_student  # lives beside merge_vad_student

NAME = "text.minilm-xcorpus.v2"
FOLDER = "text-minilm-xcorpus-v2"
#: what the config of each version states beside the figures (``model_folder`` reads them)
LICENSE = ("CC BY-NC-SA 4.0, research use only (DailyDialog's terms; ISEAR, EmoEvent and CrowdFlower state "
           "no usable licence; see model card)")
TRAINING_DATA = ("GoEmotions, EmoBank, DailyDialog (RECCON test dialogues out), ISEAR, EmoEvent, CrowdFlower "
                 "train splits; never MELD")
_V3_LICENSE = ("CC BY-NC-SA 4.0, research use only (DailyDialog's terms; EmpatheticDialogues CC BY-NC 4.0; ISEAR, "
               "EmoEvent and CrowdFlower state no usable licence; see model card)")
_V3_DATA = ("GoEmotions, EmoBank, DailyDialog (RECCON test dialogues out), ISEAR, EmoEvent, CrowdFlower, "
            "EmpatheticDialogues (opening turns) train splits; never MELD")
#: v4 is the weight average of two runs of v3's recipe (Ekman weights 0.03 and 0.1): the same data and terms
LICENSE_BY_VERSION = {"v3": _V3_LICENSE, "v4": _V3_LICENSE}
#: what each recipe trained on, where it differs from v2's (``text_xcorpus --recipe``)
TRAINING_DATA_BY_VERSION = {"v3": _V3_DATA, "v4": _V3_DATA}
V1_FOLDER = "text-minilm-goemotions-v1"
GRAPH_FILE = "model_static.onnx"


def build_variant(out: Path, data_root: Path | None, install: bool, storage: str, version: str) -> dict[str, Any]:
    """Package ``out/model_w8.onnx`` stored as ``storage`` (a ``text_xcorpus_variants`` variant) as ``version``."""
    from affectlens_recipes.text_finalize import finalize
    from affectlens_recipes.text_xcorpus_variants import QDQ_FLOAT, build

    work = out / "storage"
    probe = build(storage, out / "model_w8.onnx", work, json.loads((out / "vad_scaling.json").read_text()), data_root)
    graph = "model.onnx" if storage == "w8" else GRAPH_FILE
    shutil.copyfile(probe / "model.onnx", out / "model.onnx")
    shutil.copyfile(probe / graph, out / f"model_{storage}.onnx")
    session = QDQ_FLOAT if storage.startswith("w8") else {}
    metrics = finalize(out, storage, data_root, False, graph_file=graph, session_config=session,
                       companions=() if graph == "model.onnx" else (out / "model.onnx",))
    staged = out / f"model-{storage}"
    rename(staged, version, storage)
    if install:
        target = MODELS_DIR / f"text-minilm-xcorpus-{version}"
        target.mkdir(parents=True, exist_ok=True)
        for name in {graph, "model.onnx", "tokenizer.json", "config.json", "metrics.json"}:
            shutil.copyfile(staged / name, target / name)
        print(f"installed into {target}")
    return metrics


def build(out: Path, data_root: Path | None, install: bool, float_layers: list[int]) -> dict[str, Any]:
    import onnx

    from affectlens.bench.datasets import load_emobank
    from affectlens.metrics import pearson
    from affectlens_recipes.quantize import fold_int8_weights, quantize_encoder
    from affectlens_recipes.text_finalize import finalize
    from affectlens_recipes.text_static import (
        _calibration,
        _dev_vads,
        merge_vad_student,
        read_shared_tensors_from,
        set_blend,
    )
    from affectlens_recipes.text_teacher import fit_blend

    v1 = MODELS_DIR / V1_FOLDER
    v1_config = json.loads((v1 / "config.json").read_text(encoding="utf-8"))
    shutil.copyfile(out / "model_w8.onnx", out / "model.onnx")
    folded, static = out / "encoder_float.onnx", out / "encoder_static.onnx"
    fold_int8_weights(out / "model.onnx", folded)
    tokenizer = v1 / "tokenizer.json"
    quantize_encoder("static", folded, static, _calibration(tokenizer, data_root), float_layers)
    student = extract_student(v1 / GRAPH_FILE)
    merged = merge_vad_student(onnx.load(str(static)), student, [0.0, 0.0, 0.0])
    probe = out / "probe"
    probe.mkdir(exist_ok=True)
    onnx.save(merged, str(probe / GRAPH_FILE))
    shutil.copyfile(tokenizer, probe / "tokenizer.json")
    vad_scaling = json.loads((out / "vad_scaling.json").read_text(encoding="utf-8"))
    probe_config = {**v1_config, "model_file": GRAPH_FILE, "onnxruntime_session_config": {}, "sha256": {},
                    "vad": {**v1_config["vad"], **vad_scaling}}
    (probe / "config.json").write_text(json.dumps(probe_config), encoding="utf-8")
    dev = load_emobank("dev", data_root)
    vad_encoder, vad_student = _dev_vads(probe, dev.texts)
    weights = fit_blend(dev.vad, vad_encoder, vad_student)
    set_blend(merged, weights)
    shared = read_shared_tensors_from(merged, out / "model.onnx")
    onnx.save(merged, str(out / GRAPH_FILE))
    report = {
        "float_layers": float_layers, "student": f"{V1_FOLDER}/{GRAPH_FILE} (vad_student)", "blend": weights,
        "bytes_read_from_model_onnx": shared,
        "emobank_dev_pearson_encoder": [round(pearson(dev.vad[:, k], vad_encoder[:, k]), 4) for k in range(3)],
        "emobank_dev_pearson_student": [round(pearson(dev.vad[:, k], vad_student[:, k]), 4) for k in range(3)],
    }
    print(json.dumps(report), flush=True)
    (out / "build.json").write_text(json.dumps(report, indent=2))
    metrics = finalize(out, "static", data_root, False, graph_file=GRAPH_FILE, session_config={},
                       companions=(out / "model.onnx",))
    staged = out / "model-static"
    rename(staged)
    if install:
        target = MODELS_DIR / FOLDER
        target.mkdir(parents=True, exist_ok=True)
        for name in (GRAPH_FILE, "model.onnx", "tokenizer.json", "config.json", "metrics.json"):
            shutil.copyfile(staged / name, target / name)
        print(f"installed into {target}")
    return metrics


def rename(folder: Path, version: str = "v2", storage: str | None = None) -> None:
    """``finalize`` writes v1's name into config and metrics: give them the successor's (and its licence)."""
    name = NAME.removesuffix(".v2") + f".{version}"
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["name"], config["version"] = name, version
    config["license"] = LICENSE_BY_VERSION.get(version, LICENSE)
    config["training_data"] = TRAINING_DATA_BY_VERSION.get(version, TRAINING_DATA)
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    metrics["model"] = name
    if storage is not None:
        metrics["storage"] = storage
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="the text_xcorpus folder (model_w8.onnx)")
    parser.add_argument("--float-layers", default="0", help="encoder layers kept float, comma-separated")
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--install", action="store_true", help=f"copy into the package's models/{FOLDER}")
    parser.add_argument("--version", default="v2", help="v2: the shipped recipe (static, --float-layers); "
                        "another: models/text-minilm-xcorpus-<version>, stored as --storage")
    parser.add_argument("--storage", default=None, help="a text_xcorpus_variants variant (w8, w8s, static-0, "
                        "static-0+ffn, ...); needs --version other than v2")
    args = parser.parse_args()
    if args.storage is not None:
        if args.version == "v2":
            raise SystemExit("--storage packages a new version: pass --version v3 (v2 is shipped as it is)")
        build_variant(args.out, args.data_root, args.install, args.storage, args.version)
        return
    build(args.out, args.data_root, args.install, [int(k) for k in args.float_layers.split(",") if k.strip()])


if __name__ == "__main__":
    main()
