"""Write fitted cross-corpus heads as a model folder: one small ONNX graph per normalisation mode + config.

Graph (per mode): ``features`` [N, 768] float32 (pooled Whisper states) -> (x - mean) / std ->
``emotion`` [N, K] softmax over the head's classes, ``arousal`` [N] P(high arousal),
``valence`` [N] P(positive valence).  The utterance graph carries the pooled corpus
standardiser; the file graph takes rows already z-scored against the file's utterances
(mean 0, std 1 inside the graph).  ``config.json`` pins the sha256 of both graphs and of the
encoder files (``audio.whisper_encoder.PINNED_SHA256``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from affectlens_recipes.speech_corpora import CLASSES, HIGH_AROUSAL, POSITIVE
from affectlens_recipes.speech_xcorpus import Heads

ONNX_FILES = {"utterance": "heads_utterance.onnx", "file": "heads_file.onnx"}
# the utterance graph: heads trained on rows through the pooled standardiser ("global"): measured in-corpus
# RAVDESS UAR 0.637 vs 0.495 for per-corpus z-scored training rows, leave-one-corpus-out mean 0.373 vs 0.383
MODE_OF = {"utterance": "global", "file": "speaker"}
# heads for rows pooled inside packed Whisper windows (the words path's shared encoder pass, audio.shared_pass)
WINDOW_ONNX_FILES = {"window_utterance": "heads_window_utterance.onnx", "window_file": "heads_window_file.onnx"}


def heads_to_onnx(heads: Heads, path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def const(name: str, value: np.ndarray) -> Any:
        return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)

    d = heads.emotion_w.shape[0]
    inits = [const("mean", heads.mean), const("std", heads.std), const("w_emotion", heads.emotion_w),
             const("b_emotion", heads.emotion_b),
             numpy_helper.from_array(np.array([1], dtype=np.int64), "squeeze_axis")]
    if heads.axes == "heads":
        inits += [const("w_arousal", heads.arousal_w[:, None]), const("b_arousal", np.array([heads.arousal_b])),
                  const("w_valence", heads.valence_w[:, None]), const("b_valence", np.array([heads.valence_b]))]
    nodes = [helper.make_node("Sub", ["features", "mean"], ["centred"]),
             helper.make_node("Div", ["centred", "std"], ["z"]),
             helper.make_node("MatMul", ["z", "w_emotion"], ["e_mm"]),
             helper.make_node("Add", ["e_mm", "b_emotion"], ["emotion_logits"]),
             helper.make_node("Softmax", ["emotion_logits"], ["emotion"], axis=-1)]
    for head, classes in (("arousal", HIGH_AROUSAL), ("valence", POSITIVE)):
        if heads.axes == "emotion":  # the emotion head's probability mass on the axis' classes
            mask = np.array([[1.0] if CLASSES[k] in classes else [0.0] for k in heads.classes])
            inits.append(const(f"mask_{head}", mask))
            nodes += [helper.make_node("MatMul", ["emotion", f"mask_{head}"], [f"{head}_2d"]),
                      helper.make_node("Squeeze", [f"{head}_2d", "squeeze_axis"], [head])]
            continue
        nodes += [helper.make_node("MatMul", ["z", f"w_{head}"], [f"{head}_mm"]),
                  helper.make_node("Add", [f"{head}_mm", f"b_{head}"], [f"{head}_logit2d"]),
                  helper.make_node("Squeeze", [f"{head}_logit2d", "squeeze_axis"], [f"{head}_logit"]),
                  helper.make_node("Sigmoid", [f"{head}_logit"], [head])]
    graph = helper.make_graph(
        nodes, f"affectlens_speech_heads_{heads.mode}",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", d])],
        [helper.make_tensor_value_info("emotion", TensorProto.FLOAT, ["n", len(heads.classes)]),
         helper.make_tensor_value_info("arousal", TensorProto.FLOAT, ["n"]),
         helper.make_tensor_value_info("valence", TensorProto.FLOAT, ["n"])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="affectlens")
    model.ir_version = 8  # readable by onnxruntime >= 1.17 (the project's floor)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def encoder_entry(window: str) -> dict[str, Any]:
    """The ``encoder`` section of config.json for the cache window the heads were trained on."""
    from affectlens_recipes.speech_whisper_cache import layer_window

    layered = layer_window(window)
    if layered is not None:  # earlier blocks, read by audio.whisper_layers in numpy (float32)
        model, layers, _ = layered
        entry = encoder_entry("base-clip" if model == "base" else "clip")
        return {**entry, "compute_type": "float32", "layers": list(layers)}
    if window == "base-clip":
        from affectlens.audio import whisper_base

        return {"model": "base", "package": " + ".join(whisper_base.PACKAGE_PINS), "compute_type": "int8",
                "window": "clip", "sha256": dict(whisper_base.PINNED_SHA256)}
    from affectlens.audio.whisper_encoder import PACKAGE_PIN, PINNED_SHA256

    return {"model": "tiny.en", "package": PACKAGE_PIN, "compute_type": "int8", "window": "clip",
            "sha256": dict(PINNED_SHA256)}


def write_model_dir(folder: Path, heads_by_mode: dict[str, Heads], *, version: str = "v1",
                    extra_config: dict[str, Any] | None = None,
                    encoder_sha256: dict[str, str] | None = None, window: str = "clip") -> Path:
    """``heads_by_mode`` maps "utterance" and "file" to fitted heads; writes graphs and config.json."""
    from affectlens.models import sha256_file

    folder.mkdir(parents=True, exist_ok=True)
    classes = None
    sha: dict[str, str] = {}
    files = {**ONNX_FILES, **{m: f for m, f in WINDOW_ONNX_FILES.items() if m in heads_by_mode}}
    for mode, filename in files.items():
        heads = heads_by_mode[mode]
        names = [CLASSES[k] for k in heads.classes]
        if classes is not None and names != classes:
            raise ValueError("both modes' heads must know the same classes")
        classes = names
        heads_to_onnx(heads, folder / filename)
        sha[filename] = sha256_file(folder / filename)
    config: dict[str, Any] = {
        "version": version,
        "label_set": "ravdess",
        "labels": classes,
        "onnx_files": files,
        "encoder": {**encoder_entry(window), **({"sha256": encoder_sha256} if encoder_sha256 is not None else {})},
        "normalisation": {"min_file_segments": 3, "min_file_speech_s": 5.0},
        "sha256": sha,
    }
    config.update(extra_config or {})
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return folder


def train_and_write(cache: Path, out: Path, *, c: float = 0.05, bench_json: Path | None = None,
                    window: str = "clip", version: str = "v1", augment: str | None = None,
                    axes: str = "heads", window_rows: str | None = None, window_augment: str | None = None,
                    window_bench: Path | None = None) -> Path:
    """Fit both modes' heads on every clip of the four corpora and write the model folder (+ metrics.json).

    ``augment``: a cache window of augmented copies (e.g. ``clip-noisy``) whose rows are added to
    the training rows of the corpora it covers (same speakers, labels and folds).  ``window_rows``: the cache
    window of rows pooled inside packed Whisper windows (``speech_window_cache``, e.g. ``base@2+3+4+5+6-window``)
    for the window heads (same recipe; ``window_augment`` its copies), read by the words path's shared pass."""
    from affectlens_recipes.speech_corpora import CORPORA, LANGUAGES, LICENCES
    from affectlens_recipes.speech_xcorpus import fit_heads, load_features, with_augmented

    data = load_features(cache, window, CORPORA)
    counts = {corpus: int((data.corpus == corpus).sum()) for corpus in CORPORA}  # clips, before augmented copies
    if augment:
        data = with_augmented(data, cache, augment)
    heads = {mode: fit_heads(data, MODE_OF[mode], c=c, axes=axes) for mode in ONNX_FILES}
    if window_rows:
        packed = load_features(cache, window_rows, CORPORA)
        if window_augment:
            packed = with_augmented(packed, cache, window_augment)
        heads.update({mode: fit_heads(packed, MODE_OF[mode.removeprefix("window_")], c=c, axes=axes)
                      for mode in WINDOW_ONNX_FILES})
    encoder = encoder_entry(window)
    copies = {corpus: int((data.corpus == corpus).sum()) - counts[corpus] for corpus in CORPORA}
    extra = {"training": {"corpora": {c_: {"clips": counts[c_], "augmented_copies": copies[c_],
                                           "language": LANGUAGES[c_], "licence": LICENCES[c_]} for c_ in CORPORA},
                          "head": f"logistic regression, C={c}, class- and corpus-balanced sample weights",
                          "arousal_valence": "the emotion head's probability mass on the high-arousal / positive "
                                             "classes" if axes == "emotion" else "two binary logistic-regression heads",
                          "augmentation": augment or "none",
                          "features": f"Whisper {encoder['model']} encoder states"
                                      + (f" of blocks {'+'.join(map(str, encoder['layers']))}" if "layers" in encoder
                                         else "") + f", mean+std over the clip's frames ({data.x.shape[1]})",
                          **({"window_heads": f"the same recipe on {window_rows} (each clip pooled inside a packed "
                                              "30 s window of its speaker's clips, speech_window_cache)"
                                              + (f", augmented with {window_augment}" if window_augment else "")}
                             if window_rows else {})},
             # read by the registry (model_folder.describe)
             "license": "CC BY-NC-SA 4.0 and research-use-only terms of its training corpora (see model card); "
                        "encoder MIT",
             "training_data": ", ".join(f"{c_.upper() if c_ != 'ravdess' else 'RAVDESS'} ({counts[c_]:,}"
                                        + (f" + {copies[c_]:,} augmented copies" if copies[c_] else "") + ")"
                                        for c_ in CORPORA) + " speech clips"
                               + ("; window heads: the same clips inside packed 30 s windows of their speaker's clips"
                                  if window_rows else "")}
    write_model_dir(out, heads, extra_config=extra, version=version, window=window)
    if bench_json is not None:
        report = json.loads(bench_json.read_text(encoding="utf-8"))
        metrics = {"source": report.get("command", ""), "date": report.get("date", ""),
                   "leave_one_corpus_out": report["loco"], "in_corpus": report["in_corpus"]}
        if window_bench is not None:
            packed_report = json.loads(window_bench.read_text(encoding="utf-8"))
            metrics["window_heads"] = {"source": packed_report.get("command", ""),
                                       "date": packed_report.get("date", ""),
                                       "leave_one_corpus_out": packed_report["loco"],
                                       "in_corpus": packed_report["in_corpus"]}
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Train the cross-corpus Whisper heads on all four corpora.")
    parser.add_argument("--cache", type=Path, required=True, help="training.speech_whisper_cache --out folder")
    parser.add_argument("--out", type=Path, required=True, help="model folder to write")
    parser.add_argument("--bench", type=Path, default=None, help="speech-xcorpus.json to copy into metrics.json")
    parser.add_argument("-C", type=float, default=0.05)
    parser.add_argument("--window", default="clip", help="encoder features: clip, base-clip, or earlier blocks "
                                                          "such as base@3 (speech_whisper_cache)")
    parser.add_argument("--augment", default=None, help="cache window of augmented copies, e.g. clip-noisy")
    parser.add_argument("--window-rows", default=None,
                        help="cache window of packed-window rows for the words path's heads (speech_window_cache)")
    parser.add_argument("--window-augment", default=None, help="augmented copies of --window-rows")
    parser.add_argument("--window-bench", type=Path, default=None,
                        help="speech-xcorpus.json of the window rows, copied into metrics.json")
    parser.add_argument("--version", default="v1")
    parser.add_argument("--axes", choices=("heads", "emotion"), default="heads",
                        help="arousal and valence from two binary heads, or from the emotion head's probabilities")
    args = parser.parse_args(argv)
    print(train_and_write(args.cache, args.out, c=args.C, bench_json=args.bench, window=args.window,
                          version=args.version, augment=args.augment, axes=args.axes, window_rows=args.window_rows,
                          window_augment=args.window_augment, window_bench=args.window_bench))


if __name__ == "__main__":
    main()
