"""The test kit: a keyword recognizer, sample inputs, tiny model folders and ``check_recognizer``.

For this project's tests and for users' own tests of their recognizers.  Runtime code never
imports this package (``tests/test_import_graph.py`` checks that), and nothing here is a
registered model: ``register_dummy()`` registers the keyword recognizer where a test wants it
by name.  Nothing here imports a heavy library at import time (``onnx``/``tokenizers``/``numpy``
load inside the functions that need them).
"""

from __future__ import annotations

from affectlens.testing.check import (
    HEAVY_MODULES,
    WEIGHT_SUFFIXES,
    CheckReport,
    RecognizerCheckFailed,
    check_recognizer,
)
from affectlens.testing.dummy import DUMMY_LEXICON, DUMMY_SPEC, DummyRecognizer, register_dummy
from affectlens.testing.samples import SAMPLE_TEXTS, sample_inputs_for
from affectlens.testing.tiny_media import (
    FERPLUS_LABELS,
    RAVDESS_LABELS,
    EnergyVad,
    make_tiny_erc_model,
    make_tiny_face_model,
    make_tiny_speech_model,
)
from affectlens.testing.tiny_text import (
    TINY_SPECIAL_TOKENS,
    TINY_VOCAB,
    TINY_WORD_LABELS,
    add_tiny_vad_branch,
    add_tiny_vad_student,
    make_tiny_text_model,
    make_tiny_text_onnx,
    make_tiny_tokenizer,
    save_tiny_onnx,
)

__all__ = [
    "DUMMY_LEXICON", "DUMMY_SPEC", "FERPLUS_LABELS", "HEAVY_MODULES", "RAVDESS_LABELS", "SAMPLE_TEXTS",
    "TINY_SPECIAL_TOKENS", "TINY_VOCAB", "TINY_WORD_LABELS", "WEIGHT_SUFFIXES", "CheckReport", "DummyRecognizer",
    "EnergyVad", "RecognizerCheckFailed", "add_tiny_vad_branch", "add_tiny_vad_student", "check_recognizer",
    "make_tiny_erc_model", "make_tiny_face_model", "make_tiny_speech_model", "make_tiny_text_model",
    "make_tiny_text_onnx", "make_tiny_tokenizer", "register_dummy", "sample_inputs_for", "save_tiny_onnx",
]
