"""``text.minilm-xcorpus.v2``: the text recognizer over the cross-corpus successor's folder.

The same runtime as v1 (``TextOnnxRecognizer``: 28 GoEmotions labels, VAD, word cues); only the
folder differs (``models/text-minilm-xcorpus-v2``, trained by ``affectlens_recipes/text_xcorpus.py``).
"""

from __future__ import annotations

from typing import Any

from affectlens.models import MODELS_DIR
from affectlens.recognizers.text_onnx import TextOnnxRecognizer

XCORPUS_DIR = MODELS_DIR / "text-minilm-xcorpus-v2"
XCORPUS_NAME = "text.minilm-xcorpus.v2"


def create(**params: Any) -> TextOnnxRecognizer:
    return TextOnnxRecognizer(**{"model_dir": XCORPUS_DIR, "name": XCORPUS_NAME, **params})
