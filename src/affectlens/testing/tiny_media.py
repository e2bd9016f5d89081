"""Tiny speech, face and conversation model folders and a stand-in VAD (no training, no download)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from affectlens.testing.tiny_text import goemotions_labels, save_tiny_onnx

RAVDESS_LABELS: tuple[str, ...] = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")


def make_tiny_speech_model(folder: str | Path, *, n_mels: int = 64, seed: int = 0) -> Path:
    """Write a model folder with the shipped speech model's layout (``model.onnx`` + ``config.json``).

    The graph is mean over frames -> linear 64 -> 8: input ``logmel`` float32 [batch, 64,
    frames], output ``logits`` float32 [batch, 8].  Energy in the upper mel bands (relative
    to the file's baseline) pushes ``angry`` up and energy in the low bands ``sad``, so
    louder, brighter stretches of a test signal come out angry.
    """

    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    weights = (rng.standard_normal((n_mels, len(RAVDESS_LABELS))) * 0.05).astype(np.float32)
    weights[n_mels // 2 :, RAVDESS_LABELS.index("angry")] += 0.2
    weights[: n_mels // 4, RAVDESS_LABELS.index("sad")] += 0.2
    bias = np.zeros(len(RAVDESS_LABELS), np.float32)
    bias[RAVDESS_LABELS.index("neutral")] = 0.5
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["logmel"], ["pooled"], axes=[2], keepdims=0),
            helper.make_node("MatMul", ["pooled", "w"], ["raw"]),
            helper.make_node("Add", ["raw", "b"], ["logits"]),
        ],
        "affectlens-tiny-speech",
        inputs=[helper.make_tensor_value_info("logmel", TensorProto.FLOAT, ["batch", n_mels, "frames"])],
        outputs=[helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(RAVDESS_LABELS)])],
        initializer=[numpy_helper.from_array(weights, "w"), numpy_helper.from_array(bias, "b")],
    )
    folder = Path(folder)
    digest = save_tiny_onnx(graph, folder / "model.onnx")
    config = {
        "labels": list(RAVDESS_LABELS),
        "label_set": "ravdess",
        "temperature": 1.0,
        "normalisation": {"min_std": 0.5, "min_file_segments": 3, "min_file_speech_s": 5.0},
        "prosody_reference": {
            "median": {"pitch_median_st": 5.0, "loudness_db": -30.0, "speaking_rate": 2.0},
            "spread": {"pitch_median_st": 3.0, "loudness_db": 5.0, "speaking_rate": 1.0},
        },
        "sha256": {"model.onnx": digest},
        "version": "v1",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    return folder


class EnergyVad:
    """A stand-in for Silero VAD in tests: speech probability from 32 ms frame energy.

    Same interface as ``affectlens.audio.vad.SileroVad`` (``load``, ``reset``, ``push``,
    ``flush``): frames with RMS above ``level`` count as speech.  Synthetic tones are not
    speech to Silero, so tests of segmentation and of the recognizer's plumbing use this.
    """

    def __init__(self, level: float = 0.01) -> None:
        self.level = level
        self._pending: Any = None

    def load(self) -> None:
        return None

    def reset(self) -> None:
        self._pending = None

    def push(self, chunk: Any) -> Any:
        import numpy as np

        audio = np.asarray(chunk, np.float32).reshape(-1)
        if self._pending is not None and self._pending.size:
            audio = np.concatenate([self._pending, audio])
        n = audio.size // 512
        self._pending = audio[n * 512 :]
        frames = audio[: n * 512].reshape(n, 512)
        return (np.sqrt((frames**2).mean(axis=1)) > self.level).astype(np.float32)

    def flush(self) -> Any:
        import numpy as np

        if self._pending is None or not self._pending.size:
            return np.zeros(0, np.float32)
        rms = float(np.sqrt((self._pending**2).mean()))
        self._pending = None
        return np.array([1.0 if rms > self.level else 0.0], np.float32)


FERPLUS_LABELS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")


def make_tiny_face_model(folder: str | Path, *, size: int = 48, seed: int = 0) -> Path:
    """Write a face model folder (``model.onnx`` + ``config.json``) with the layout ``face_onnx`` reads.

    The graph is a real (tiny) CNN: conv 3x3 (1 -> 4) -> ReLU -> max-pool 2 -> global average
    -> linear 4 -> 8 over the ``ferplus`` labels; input ``image`` float32 [batch, 1, size, size],
    output ``logits``.  A bright lower half of the crop (where the mouth is) pushes
    ``happiness`` up, so tests can check that occluding the mouth lowers it.
    """

    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    conv = (rng.standard_normal((4, 1, 3, 3)) * 0.3).astype(np.float32)
    conv[0] = 1.0 / 9.0  # channel 0: local brightness
    head = (rng.standard_normal((4, len(FERPLUS_LABELS))) * 0.1).astype(np.float32)
    head[0, FERPLUS_LABELS.index("happiness")] = 10.0
    bias = np.zeros(len(FERPLUS_LABELS), np.float32)
    bias[FERPLUS_LABELS.index("happiness")] = -2.0
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["image", "conv_w"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["c"], ["r"]),
            helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("GlobalAveragePool", ["p"], ["g"]),
            helper.make_node("Flatten", ["g"], ["f"]),
            helper.make_node("Gemm", ["f", "head_w", "head_b"], ["logits"]),
        ],
        "affectlens-tiny-face",
        inputs=[helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, size, size])],
        outputs=[helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(FERPLUS_LABELS)])],
        initializer=[numpy_helper.from_array(conv, "conv_w"), numpy_helper.from_array(head, "head_w"),
                     numpy_helper.from_array(bias, "head_b")],
    )
    folder = Path(folder)
    digest = save_tiny_onnx(graph, folder / "model.onnx")
    config = {
        "labels": list(FERPLUS_LABELS), "label_set": "ferplus", "input_size": [size, size], "channels": 1,
        "input_name": "image", "output_name": "logits", "scale": 1.0 / 255.0, "mean": 0.0, "std": 1.0,
        "temperature": 1.0, "margin": 0.10, "version": "v1", "sha256": {"model.onnx": digest},
    }
    (folder / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    return folder


# ---------------------------------------------------------------------------------------------
# conversations: a tiny context model folder over the tiny text model
# ---------------------------------------------------------------------------------------------



def _meld_labels() -> tuple[str, ...]:
    from affectlens.taxonomy import get_label_set

    return tuple(get_label_set("meld").labels)


def _tiny_erc_head(path: Path, n_inputs: int, *, context: bool, seed: int) -> None:
    """``turns`` float32 [1, T, n_inputs] -> ``log_probs`` [1, T, 7]; with ``context``, the
    dialogue's mean turn adds to every turn's logits, so a turn reads differently in company."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    meld_labels = _meld_labels()
    rng = np.random.default_rng(seed)
    weights = (rng.standard_normal((n_inputs, len(meld_labels))) * 0.3).astype(np.float32)
    goemotions = goemotions_labels(28)
    for source, target in (("joy", "joy"), ("anger", "anger"), ("sadness", "sadness"), ("fear", "fear")):
        for block in range(3):  # embedding, logits / 5, layer 3: each carries the tiny words' labels
            weights[block * 28 + goemotions.index(source), meld_labels.index(target)] += 3.0
    nodes = [helper.make_node("MatMul", ["turns", "w"], ["own"])]
    initializers = [numpy_helper.from_array(weights, "w"),
                    numpy_helper.from_array(np.array([1], np.int64), "axis_turns")]
    if context:
        nodes += [helper.make_node("ReduceMean", ["turns"], ["mean_turn"], axes=[1], keepdims=1),
                  helper.make_node("MatMul", ["mean_turn", "w"], ["shared"]),
                  helper.make_node("Add", ["own", "shared"], ["logits"])]
    else:
        nodes += [helper.make_node("Identity", ["own"], ["logits"])]
    nodes += [helper.make_node("LogSoftmax", ["logits"], ["log_probs"], axis=-1)]
    graph = helper.make_graph(
        nodes, "affectlens-tiny-erc",
        inputs=[helper.make_tensor_value_info("turns", TensorProto.FLOAT, [1, "turns", n_inputs])],
        outputs=[helper.make_tensor_value_info("log_probs", TensorProto.FLOAT, [1, "turns", len(meld_labels)])],
        initializer=initializers)
    save_tiny_onnx(graph, path)


def make_tiny_erc_model(folder: str | Path) -> Path:
    """A conversation model folder (two tiny heads, config with hashes) for ``ContextualErc``.

    Its turn features come from the tiny text model (``make_tiny_text_model``): 3 x 28
    numbers per turn plus the same-speaker flag.
    """
    from affectlens.models import sha256_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    heads = {"context": "head_context.onnx", "utterance": "head_utterance.onnx"}
    for k, (mode, filename) in enumerate(heads.items()):
        _tiny_erc_head(folder / filename, 3 * 28 + 1, context=mode == "context", seed=k)
    config = {"labels": list(_meld_labels()), "label_set": "meld", "heads": heads,
              "temperatures": {"context": 1.0, "utterance": 1.0},
              "sha256": {name: sha256_file(folder / name) for name in heads.values()}}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder
