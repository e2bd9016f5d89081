"""The text model's analysis graph: int8 activations, with a VAD student merged in.

The float-activation encoder (``model.onnx``) reaches EmoBank dev valence r 0.739; a second
encoder distilled from the larger teacher (``text_teacher.py``) reads valence better, and
averaging the two per VAD dimension better still, but two float encoders per text do not fit
the text model's speed budget on 2 cores.  Here the shipped encoder gets static int8
activations (its first layer kept float: the one that loses most) and the student, itself
static int8, is merged into the same ONNX graph (one session, shared inputs, the blend
computed inside the graph).  The result is ``model_static.onnx``, which the text model
runs; ``model.onnx`` stays for the conversation and cause heads, trained on its features, and
the static graph reads the int8 weights the two share out of it (``read_shared_tensors_from``).

Recipe (after ``text finalize --install``; the students in ``text_teacher.py``)::

    python -m affectlens_recipes.text_teacher train --encoder minilm --lr 6e-5 --gold-repeat 2 \\
        --epochs 2 --distill artifacts/text/vad_corpus.txt --out artifacts/text/student_l6
    python -m affectlens_recipes.text_teacher train --encoder minilm --lr 6e-5 --gold-repeat 2 \\
        --epochs 2 --layers 3 --init artifacts/text/student_l6/teacher.pt \\
        --distill artifacts/text/vad_corpus.txt --out artifacts/text/student_l3i
    python -m affectlens_recipes.text_teacher export --out artifacts/text/student_l3i --no-blend
    python -m affectlens_recipes.text_static --student artifacts/text/student_l3i \\
        --out artifacts/text_static --install

1. the shipped ``model.onnx`` with its int8 weights folded to float (``quantize.fold_int8_weights``);
2. static int8 activations (QDQ, per-channel weights, MinMax over 512 GoEmotions train texts,
   seed 0), layer 0 float (``--float-layers``): the layer that loses most to int8;
3. the 3-layer student (its first layers taken from the 6-layer one, then distilled again:
   dev valence r 0.741 against 0.734 from the pretrained layers) quantized the same way, its
   layer 0 float too (``--student-float-layers``; all int8: 0.729), and merged in; the blend
   weights per dimension fitted on EmoBank dev (``text_teacher.fit_blend``);
4. ``text_finalize``: temperatures and thresholds on GoEmotions dev, test measured once.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.bench.datasets import load_emobank, load_goemotions
from affectlens.models import MODELS_DIR

MODEL_NAME = "text-minilm-goemotions-v1"
GRAPH_FILE = "model_static.onnx"
STUDENT_PREFIX = "vad_student/"
CALIBRATION_TEXTS = 512
CALIBRATION_SEED = 0


def merge_vad_student(main: Any, student: Any, weights: Sequence[float]) -> Any:
    """One graph: ``main`` with ``student`` beside it on the same inputs, ``vad`` their blend.

    ``main``'s own VAD becomes ``vad_encoder`` and the student's ``vad_student`` (both kept as
    outputs); ``vad = vad_encoder + w * (vad_student - vad_encoder)`` per dimension, with the
    weights ``w`` stored as the initializer ``vad_student_weight``.
    """
    from onnx import TensorProto, compose, helper, numpy_helper

    inputs = {i.name for i in main.graph.input}
    prefixed = compose.add_prefix(student, STUDENT_PREFIX)
    for node in prefixed.graph.node:
        for k, name in enumerate(node.input):
            if name.startswith(STUDENT_PREFIX) and name[len(STUDENT_PREFIX):] in inputs:
                node.input[k] = name[len(STUDENT_PREFIX):]
    graph = main.graph
    for node in graph.node:
        node.output[:] = ["vad_encoder" if o == "vad" else o for o in node.output]
        node.input[:] = ["vad_encoder" if i == "vad" else i for i in node.input]
    for output in graph.output:
        if output.name == "vad":
            output.name = "vad_encoder"
    student_vad = STUDENT_PREFIX + "vad"
    for node in prefixed.graph.node:
        node.output[:] = ["vad_student" if o == student_vad else o for o in node.output]
    graph.node.extend(prefixed.graph.node)
    graph.initializer.extend(prefixed.graph.initializer)
    graph.value_info.extend(prefixed.graph.value_info)
    weight = np.clip(np.asarray(weights, dtype=np.float32), 0.0, 1.0)
    if weight.shape != (3,):
        raise ValueError(f"three blend weights expected, not {weights!r}")
    graph.initializer.append(numpy_helper.from_array(weight, "vad_student_weight"))
    graph.node.extend([
        helper.make_node("Sub", ["vad_student", "vad_encoder"], ["vad_blend/difference"], name="vad_blend/Sub"),
        helper.make_node("Mul", ["vad_blend/difference", "vad_student_weight"], ["vad_blend/step"],
                         name="vad_blend/Mul"),
        helper.make_node("Add", ["vad_encoder", "vad_blend/step"], ["vad"], name="vad_blend/Add"),
    ])
    graph.output.extend([
        helper.make_tensor_value_info("vad", TensorProto.FLOAT, ["batch", 3]),
        helper.make_tensor_value_info("vad_student", TensorProto.FLOAT, ["batch", 3]),
    ])
    main_opset = {o.domain: o.version for o in main.opset_import}
    for opset in student.opset_import:
        if main_opset.get(opset.domain, 0) < opset.version:
            raise ValueError(f"the student needs opset {opset.domain or 'ai.onnx'} {opset.version}; "
                             f"the encoder has {main_opset.get(opset.domain)}")
    return main


def extract_student(merged_graph: Path) -> Any:
    """v1's VAD student as a model of its own: inputs ``input_ids``/``attention_mask``, output ``vad``.

    ``text_static.merge_vad_student`` prefixed the student's names with ``vad_student/`` and
    named its output ``vad_student``; both are undone so that the student merges again.
    """
    import onnx
    from onnx import utils

    model = onnx.load(str(merged_graph))  # external data (the encoder's weights) resolved from its folder
    sub = utils.Extractor(model).extract_model(["input_ids", "attention_mask"], ["vad_student"])

    def plain(name: str) -> str:
        if name == "vad_student":
            return "vad"
        return name[len(STUDENT_PREFIX):] if name.startswith(STUDENT_PREFIX) else name

    graph = sub.graph
    foreign = [n.name for n in graph.node if not n.name.startswith(STUDENT_PREFIX)]
    if foreign:
        raise RuntimeError(f"{merged_graph}: the student's part holds nodes of the encoder ({foreign[:3]})")
    for node in graph.node:
        node.name = plain(node.name)
        node.input[:] = [plain(i) for i in node.input]
        node.output[:] = [plain(o) for o in node.output]
    for tensor in graph.initializer:
        tensor.name = plain(tensor.name)
    for value in (*graph.value_info, *graph.output):
        value.name = plain(value.name)
    return sub


def set_blend(model: Any, weights: Sequence[float]) -> None:
    """Replace a merged graph's ``vad_student_weight``."""
    from onnx import numpy_helper

    for init in model.graph.initializer:
        if init.name == "vad_student_weight":
            init.CopyFrom(numpy_helper.from_array(np.asarray(weights, dtype=np.float32), init.name))
            return
    raise ValueError("not a merged graph: no vad_student_weight")


def read_shared_tensors_from(model: Any, donor: Path, min_bytes: int = 4096) -> int:
    """Point ``model``'s tensors whose bytes ``donor`` already holds at them; return the bytes saved.

    The static encoder keeps ``model.onnx``'s int8 weights bit for bit (22.9 of its 23 MB), so
    instead of a second copy each such tensor becomes ONNX external data: location ``donor``'s
    file name (beside the graph), the offset of its raw bytes inside that file, their length.
    The donor is pinned by sha256 in the model's config, so the offsets stay valid.
    """
    from onnx import TensorProto

    data = donor.read_bytes()
    saved = 0
    for tensor in model.graph.initializer:
        raw = tensor.raw_data
        if len(raw) < min_bytes:
            continue
        offset = data.find(raw)
        if offset < 0 or data.find(raw, offset + 1) >= 0:  # absent, or not one place to point at
            continue
        del tensor.external_data[:]
        for key, value in (("location", donor.name), ("offset", str(offset)), ("length", str(len(raw)))):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        tensor.data_location = TensorProto.EXTERNAL
        tensor.ClearField("raw_data")
        saved += len(raw)
    return saved


def _calibration(tokenizer_path: Path, data_root: Path | None) -> Iterator[dict[str, np.ndarray]]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_path))
    tok.no_padding()
    tok.enable_truncation(128)
    texts = load_goemotions("train", data_root).texts
    picked = np.random.default_rng(CALIBRATION_SEED).choice(len(texts), CALIBRATION_TEXTS, replace=False)
    seqs = sorted((e.ids for e in tok.encode_batch([texts[i] for i in picked])), key=len)
    for start in range(0, len(seqs), 64):
        batch = seqs[start : start + 64]
        ids = np.zeros((len(batch), max(map(len, batch))), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        yield {"input_ids": ids, "attention_mask": mask}


def _dev_vads(model_dir: Path, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The merged graph's ``vad_encoder`` and ``vad_student`` for each text's first window."""
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer

    rec = TextOnnxRecognizer(model_dir, verify=False, threads=2)
    encoder = np.zeros((len(texts), 3), dtype=np.float32)
    student = np.zeros((len(texts), 3), dtype=np.float32)
    for chunk, _, (vad_e, vad_s) in rec.first_window_batches(texts, ["vad_encoder", "vad_student"]):
        encoder[chunk], student[chunk] = vad_e, vad_s
    return encoder, student


def build(out: Path, student_dir: Path, float_layers: list[int], student_float_layers: list[int],
          data_root: Path | None, install: bool) -> dict[str, Any]:
    import onnx

    from affectlens.metrics import pearson
    from affectlens_recipes.quantize import fold_int8_weights, quantize_encoder
    from affectlens_recipes.text_finalize import finalize
    from affectlens_recipes.text_teacher import fit_blend

    shipped = MODELS_DIR / MODEL_NAME
    config = json.loads((shipped / "config.json").read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "vad_scaling.json").write_text(json.dumps({k: config["vad"][k] for k in ("mean", "std")}))
    folded, static = out / "encoder_float.onnx", out / "encoder_static.onnx"
    fold_int8_weights(shipped / "model.onnx", folded)
    tokenizer = shipped / "tokenizer.json"
    quantize_encoder("static", folded, static, _calibration(tokenizer, data_root), float_layers)
    student_static = out / "student_static.onnx"
    quantize_encoder("static", student_dir / "student_fp32.onnx", student_static, _calibration(tokenizer, data_root),
                     student_float_layers)
    student = onnx.load(str(student_static))
    merged = merge_vad_student(onnx.load(str(static)), student, [0.0, 0.0, 0.0])
    # a provisional folder (weights 0) gives both VADs on EmoBank dev for fitting the blend
    probe = out / "probe"
    probe.mkdir(exist_ok=True)
    onnx.save(merged, str(probe / GRAPH_FILE))
    (probe / "tokenizer.json").write_bytes((shipped / "tokenizer.json").read_bytes())
    probe_config = {**config, "model_file": GRAPH_FILE, "onnxruntime_session_config": {}, "sha256": {}}
    probe_config.pop("vad_branch", None)
    (probe / "config.json").write_text(json.dumps(probe_config), encoding="utf-8")
    dev = load_emobank("dev", data_root)
    vad_encoder, vad_student = _dev_vads(probe, dev.texts)
    weights = fit_blend(dev.vad, vad_encoder, vad_student)
    set_blend(merged, weights)
    shared = read_shared_tensors_from(merged, shipped / "model.onnx")
    onnx.save(merged, str(out / GRAPH_FILE))
    report = {
        "float_layers": float_layers, "student": str(student_dir), "student_float_layers": student_float_layers,
        "blend": weights, "bytes_read_from_model_onnx": shared,
        "emobank_dev_pearson_encoder": [round(pearson(dev.vad[:, k], vad_encoder[:, k]), 4) for k in range(3)],
        "emobank_dev_pearson_student": [round(pearson(dev.vad[:, k], vad_student[:, k]), 4) for k in range(3)],
    }
    print(json.dumps(report), flush=True)
    (out / "build.json").write_text(json.dumps(report, indent=2))
    finalize(out, "static", data_root, install, graph_file=GRAPH_FILE, session_config={},
             companions=(shipped / "model.onnx",))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--student", type=Path, required=True,
                        help="a text_teacher output folder with student_fp32.onnx (text_teacher export)")
    parser.add_argument("--out", type=Path, default=Path("artifacts/text_static"))
    parser.add_argument("--float-layers", default="0", help="the encoder's layers kept float, comma-separated")
    parser.add_argument("--student-float-layers", default="0", help="the student's layers kept float")
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--install", action="store_true", help="into the package's text model folder")
    args = parser.parse_args()
    def layers(text: str) -> list[int]:
        return [int(k) for k in text.split(",") if k.strip()]

    build(args.out, args.student, layers(args.float_layers), layers(args.student_float_layers), args.data_root,
          args.install)


if __name__ == "__main__":
    main()
