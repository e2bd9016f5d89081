from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from affectlens.testing import (
    TINY_VOCAB,
    DummyRecognizer,
    RecognizerCheckFailed,
    check_recognizer,
    make_tiny_text_onnx,
    make_tiny_tokenizer,
)
from affectlens.types import EmotionResult, Modality


def test_dummy_passes_every_check() -> None:
    report = check_recognizer(DummyRecognizer())
    assert not report.failed
    assert {
        "attributes",
        "init_does_not_load",
        "bad_items",
        "json_round_trip",
        "deterministic",
        "batch_order",
        "results_well_formed",
    } <= set(report.passed)


def test_dummy_cues_are_the_matched_words() -> None:
    text = "Wow, I'm SO happy... but scared."
    (result,) = DummyRecognizer().analyze([text])
    seg = result.segments[0]
    assert [(c.phrase, c.label) for c in seg.cues] == [
        ("Wow", "surprise"),
        ("happy", "joy"),
        ("scared", "fear"),
    ]
    assert all(text[c.span[0] : c.span[1]] == c.phrase for c in seg.cues if c.span)
    assert seg.vad is not None and seg.labels[0] in seg.scores


def test_dummy_neutral_without_keywords() -> None:
    (result,) = DummyRecognizer().analyze(["The meeting is at noon."])
    assert result.segments[0].labels == ("neutral",) and not result.segments[0].cues


# -- check_recognizer catches broken recognizers ----------------------------------------------


class _EagerLoader(DummyRecognizer):
    weights = Path(__file__)

    def __init__(self) -> None:
        super().__init__()
        self.model_file = self.weights.with_suffix(".onnx")
        open(self.model_file, "a").close()


class _WrongKeys(DummyRecognizer):
    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        out = super().analyze(batch)
        return [
            replace(r, segments=tuple(replace(s, scores={"joy": 1.0}, labels=("joy",)) for s in r.segments))
            for r in out
        ]


class _DropsEmpty(DummyRecognizer):
    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        return super().analyze([x for x in batch if str(x).strip()])


class _Raises(DummyRecognizer):
    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        if any(not str(x).strip() for x in batch):
            raise ValueError("empty")
        return super().analyze(batch)


class _Random(DummyRecognizer):
    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        out = super().analyze(batch)
        return [
            replace(r, segments=tuple(replace(s, confidence=random.random()) for s in r.segments))
            for r in out
        ]


class _BadSpans(DummyRecognizer):
    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        out = super().analyze(batch)
        return [
            replace(
                r,
                segments=tuple(
                    replace(s, cues=tuple(replace(c, span=(0, 10_000)) for c in s.cues)) for s in r.segments
                ),
            )
            for r in out
        ]


@pytest.mark.parametrize(
    ("cls", "failing"),
    [
        (_WrongKeys, "results_well_formed"),
        (_DropsEmpty, "bad_items"),
        (_Raises, "bad_items"),
        (_Random, "deterministic"),
        (_BadSpans, "results_well_formed"),
    ],
)
def test_check_recognizer_reports_violations(cls: type[DummyRecognizer], failing: str) -> None:
    with pytest.raises(RecognizerCheckFailed, match=failing):
        check_recognizer(cls())


def test_check_recognizer_catches_weights_opened_in_init(tmp_path: Path) -> None:
    class Eager(_EagerLoader):
        weights = tmp_path / "model"

    with pytest.raises(RecognizerCheckFailed, match=r"init_does_not_load.*weight files"):
        check_recognizer(Eager())


# -- tiny models ----------------------------------------------------------------------------------


def test_tiny_tokenizer_is_bert_style(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(make_tiny_tokenizer(tmp_path / "tokenizer.json")))
    encoding = tokenizer.encode("I am SO Happy!")
    assert encoding.tokens == ["[CLS]", "i", "am", "so", "happy", "!", "[SEP]"]
    assert encoding.offsets[4] == (8, 13)
    assert tokenizer.encode("zebra").tokens == ["[CLS]", "[UNK]", "[SEP]"]
    assert tokenizer.get_vocab_size() == len(TINY_VOCAB)


def test_tiny_onnx_has_the_text_model_signature(tmp_path: Path) -> None:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from affectlens.bench.datasets import GOEMOTIONS_LABELS

    model = make_tiny_text_onnx(tmp_path / "model.onnx")
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    assert [(i.name, i.type, i.shape) for i in session.get_inputs()] == [
        ("input_ids", "tensor(int64)", ["batch", "seq"]),
        ("attention_mask", "tensor(int64)", ["batch", "seq"]),
    ]
    assert [(o.name, o.type) for o in session.get_outputs()] == [
        ("logits", "tensor(float)"),
        ("vad", "tensor(float)"),
        ("token_logits", "tensor(float)"),
        ("embedding", "tensor(float)"),
        ("hidden_layer3", "tensor(float)"),
    ]

    tokenizer = Tokenizer.from_file(str(make_tiny_tokenizer(tmp_path / "tokenizer.json")))
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    encodings = tokenizer.encode_batch(["I am so happy", "so scared today, really"])
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    logits, vad, token_logits = session.run(
        ["logits", "vad", "token_logits"], {"input_ids": ids, "attention_mask": mask})
    assert logits.shape == (2, 28) and vad.shape == (2, 3) and token_logits.shape == (2, ids.shape[1], 28)
    assert GOEMOTIONS_LABELS[int(logits[0].argmax())] == "joy"
    assert GOEMOTIONS_LABELS[int(logits[1].argmax())] == "fear"
    assert np.all(np.abs(vad) <= 1.0)
    assert np.all(token_logits[0][mask[0] == 0] == 0)  # padding contributes nothing


def test_tiny_onnx_other_sizes(tmp_path: Path) -> None:
    import onnxruntime as ort

    model = make_tiny_text_onnx(tmp_path / "m.onnx", vocab_size=50, n_labels=7, seed=3)
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    ids = np.array([[2, 10, 3]], dtype=np.int64)
    logits, _vad, tokens = session.run(
        ["logits", "vad", "token_logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})
    assert logits.shape == (1, 7) and tokens.shape == (1, 3, 7)


class _NoParams:
    """A recognizer from before ``get_params`` / ``with_params``: everything else delegated to the dummy."""

    def __init__(self) -> None:
        self._inner = DummyRecognizer()
        self.name, self.version, self.modality, self.label_set = "dummy.noparams.v1", "v1", Modality.TEXT, "ekman"

    def load(self) -> None:
        self._inner.load()

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        return self._inner.analyze(batch)


class _SilentParams(DummyRecognizer):
    def with_params(self, **changes: Any) -> DummyRecognizer:  # accepts any name, as setattr would
        variant = DummyRecognizer()
        variant.__dict__.update(self.__dict__, **changes)
        return variant


@pytest.mark.parametrize("recognizer", [_NoParams(), _SilentParams()], ids=["missing", "accepts_unknown_names"])
def test_check_recognizer_checks_the_parameter_contract(recognizer: Any) -> None:
    with pytest.raises(RecognizerCheckFailed, match="params"):
        check_recognizer(recognizer, factory=DummyRecognizer)
