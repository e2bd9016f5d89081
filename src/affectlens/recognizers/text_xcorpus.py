"""``text.minilm-xcorpus.v2`` / ``.v3`` / ``.v4``: the text recognizer over the cross-corpus successors' folders.

The same runtime as v1 (``TextOnnxRecognizer``: 28 GoEmotions labels, VAD, word cues); only the
folder differs (``models/text-minilm-xcorpus-v2`` / ``-v3`` / ``-v4``, trained by
``affectlens_recipes/text_xcorpus.py``: ``--recipe v2``, ``--recipe v3``, and v4 the weight average
of two ``--recipe v3`` runs with Ekman weights 0.03 and 0.1).
"""

from __future__ import annotations

from typing import Any

from affectlens.models import MODELS_DIR
from affectlens.recognizers.text_onnx import TextOnnxRecognizer

XCORPUS_DIR = MODELS_DIR / "text-minilm-xcorpus-v2"
XCORPUS_NAME = "text.minilm-xcorpus.v2"
XCORPUS_V3_DIR = MODELS_DIR / "text-minilm-xcorpus-v3"
XCORPUS_V3_NAME = "text.minilm-xcorpus.v3"
XCORPUS_V4_DIR = MODELS_DIR / "text-minilm-xcorpus-v4"
XCORPUS_V4_NAME = "text.minilm-xcorpus.v4"


def create(**params: Any) -> TextOnnxRecognizer:
    return TextOnnxRecognizer(**{"model_dir": XCORPUS_DIR, "name": XCORPUS_NAME, **params})


def create_v3(**params: Any) -> TextOnnxRecognizer:
    return TextOnnxRecognizer(**{"model_dir": XCORPUS_V3_DIR, "name": XCORPUS_V3_NAME, **params})


def create_v4(**params: Any) -> TextOnnxRecognizer:
    return TextOnnxRecognizer(**{"model_dir": XCORPUS_V4_DIR, "name": XCORPUS_V4_NAME, **params})
