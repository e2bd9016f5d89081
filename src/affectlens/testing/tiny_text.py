"""Tiny text model folders with the shipped text model's signature (built with ``onnx``, no torch)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

TINY_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
#: word -> GoEmotions label it is wired to in ``make_tiny_text_onnx``
TINY_WORD_LABELS: Mapping[str, str] = {
    "happy": "joy",
    "glad": "joy",
    "joy": "joy",
    "love": "love",
    "thanks": "gratitude",
    "thank": "gratitude",
    "great": "admiration",
    "amazing": "admiration",
    "funny": "amusement",
    "lol": "amusement",
    "angry": "anger",
    "furious": "anger",
    "annoyed": "annoyance",
    "sad": "sadness",
    "cry": "sadness",
    "sorry": "remorse",
    "afraid": "fear",
    "scared": "fear",
    "nervous": "nervousness",
    "wow": "surprise",
    "surprised": "surprise",
    "disgusting": "disgust",
    "gross": "disgust",
    "proud": "pride",
    "hope": "optimism",
    "confused": "confusion",
    "curious": "curiosity",
    "excited": "excitement",
    "relieved": "relief",
    "disappointed": "disappointment",
    "grief": "grief",
    "embarrassed": "embarrassment",
    "want": "desire",
    "agree": "approval",
    "care": "caring",
    "realize": "realization",
    "wrong": "disapproval",
}
_TINY_FILLERS = (
    "i",
    "am",
    "you",
    "we",
    "it",
    "is",
    "was",
    "so",
    "very",
    "not",
    "the",
    "a",
    "this",
    "that",
    "and",
    "but",
    "to",
    "of",
    "feel",
    "really",
    "today",
    "movie",
    "day",
    "me",
    "my",
    "are",
    "be",
    "what",
    "how",
    "in",
    "at",
)
_TINY_PIECES = ("##s", "##ed", "##ing", "##ly", ".", ",", "!", "?", "'")
TINY_VOCAB: tuple[str, ...] = (*TINY_SPECIAL_TOKENS, *_TINY_FILLERS, *TINY_WORD_LABELS, *_TINY_PIECES)


def make_tiny_tokenizer(path: str | Path) -> Path:
    """Write a BERT-style WordPiece ``tokenizer.json`` (lowercase, ``[CLS] ... [SEP]``) over TINY_VOCAB."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = {token: i for i, token in enumerate(TINY_VOCAB)}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(
        lowercase=True, clean_text=True, handle_chinese_chars=True, strip_accents=None
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    return path


def make_tiny_text_onnx(
    path: str | Path,
    *,
    vocab_size: int = len(TINY_VOCAB),
    n_labels: int = 28,
    seed: int = 0,
    label_names: Sequence[str] | None = None,
) -> Path:
    """Write a tiny ONNX model with the shipped text model's signature (built with ``onnx``, no torch).

    Inputs ``input_ids``/``attention_mask`` int64 [batch, seq]; outputs ``logits`` float32
    [batch, n_labels], ``vad`` float32 [batch, 3], ``token_logits`` float32 [batch, seq, n_labels],
    and the conversation model's ``embedding`` [batch, n_labels] and ``hidden_layer3`` [batch, seq, n_labels].
    The graph is embedding lookup -> masked mean -> linear heads.  With the default
    vocabulary (``make_tiny_tokenizer``) and 28 GoEmotions labels, each word of
    ``TINY_WORD_LABELS`` pushes its label up, so "I am so happy" scores ``joy`` highest.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    embedding = (rng.standard_normal((vocab_size, n_labels)) * 0.1).astype(np.float32)
    bias = np.full(n_labels, -1.5, dtype=np.float32)
    names = list(label_names) if label_names is not None else goemotions_labels(n_labels)
    if names and vocab_size >= len(TINY_VOCAB):
        for token_id, token in enumerate(TINY_VOCAB):
            label = TINY_WORD_LABELS.get(token)
            if label in names:
                embedding[token_id, names.index(label)] += 15.0
        if "neutral" in names:
            bias[names.index("neutral")] = 0.0
    head = np.eye(n_labels, dtype=np.float32)
    vad_head = (rng.standard_normal((n_labels, 3)) * 0.5).astype(np.float32)
    initializers = [
        numpy_helper.from_array(embedding, "word_table"),
        numpy_helper.from_array(head, "head_w"),
        numpy_helper.from_array(bias, "head_b"),
        numpy_helper.from_array(vad_head, "vad_w"),
        numpy_helper.from_array(np.zeros(3, np.float32), "vad_b"),
        numpy_helper.from_array(np.array([1], np.int64), "axis_seq"),
        numpy_helper.from_array(np.array([2], np.int64), "axis_last"),
        numpy_helper.from_array(np.array([1.0], np.float32), "one"),
    ]
    nodes = [
        helper.make_node("Gather", ["word_table", "input_ids"], ["embedded"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask", "axis_last"], ["mask3"]),
        helper.make_node("Mul", ["embedded", "mask3"], ["token_logits"]),
        helper.make_node("ReduceSum", ["token_logits", "axis_seq"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask", "axis_seq"], ["count"], keepdims=1),
        helper.make_node("Max", ["count", "one"], ["count_safe"]),
        helper.make_node("Div", ["summed", "count_safe"], ["pooled"]),
        helper.make_node("MatMul", ["pooled", "head_w"], ["logits_raw"]),
        helper.make_node("Add", ["logits_raw", "head_b"], ["logits"]),
        helper.make_node("MatMul", ["pooled", "vad_w"], ["vad_raw"]),
        helper.make_node("Add", ["vad_raw", "vad_b"], ["vad_lin"]),
        helper.make_node("Tanh", ["vad_lin"], ["vad"]),
        # what the conversation model reads (``affectlens_recipes/onnx_outputs.py`` names them in the real model)
        helper.make_node("Identity", ["pooled"], ["embedding"]),
        helper.make_node("Identity", ["embedded"], ["hidden_layer3"]),
    ]
    graph = helper.make_graph(
        nodes,
        "affectlens-tiny-text",
        inputs=[
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        outputs=[
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", n_labels]),
            helper.make_tensor_value_info("vad", TensorProto.FLOAT, ["batch", 3]),
            helper.make_tensor_value_info("token_logits", TensorProto.FLOAT, ["batch", "seq", n_labels]),
            helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", n_labels]),
            helper.make_tensor_value_info("hidden_layer3", TensorProto.FLOAT, ["batch", "seq", n_labels]),
        ],
        initializer=initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="affectlens.testing"
    )
    model.ir_version = 8  # readable by every onnxruntime we support
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def goemotions_labels(n_labels: int) -> list[str]:
    if n_labels != 28:
        return []
    from affectlens.taxonomy import get_label_set

    return list(get_label_set("goemotions").labels)


def add_tiny_vad_student(folder: str | Path, per_token: Sequence[float] = (0.1, 0.0, 0.0)) -> Path:
    """Give a ``make_tiny_text_model`` folder a VAD student: a graph of its own over the word pieces.

    ``vad_student.onnx`` reads ``input_ids`` and ``attention_mask`` (as a distilled encoder
    does) and returns ``per_token`` times the number of word pieces, so that tests can tell
    its VAD from the main graph's.
    """
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    from affectlens.models import sha256_file

    folder = Path(folder)
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["input_ids"], ["ids"], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["ids", "zero"], ["nothing"]),  # reads the ids, adds 0
            helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
            helper.make_node("Add", ["mask", "nothing"], ["mask_read"]),
            helper.make_node("ReduceSum", ["mask_read", "axis_seq"], ["count"], keepdims=1),
            helper.make_node("MatMul", ["count", "w"], ["vad"]),
        ],
        "affectlens-tiny-vad-student",
        inputs=[helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
                helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        outputs=[helper.make_tensor_value_info("vad", TensorProto.FLOAT, ["batch", 3])],
        initializer=[numpy_helper.from_array(np.asarray([per_token], dtype=np.float32), "w"),
                     numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
                     numpy_helper.from_array(np.array([1], np.int64), "axis_seq")],
    )
    save_tiny_onnx(graph, folder / "vad_student.onnx")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["vad_branch"] = {"file": "vad_student.onnx", "input": "input_ids"}
    config["sha256"]["vad_student.onnx"] = sha256_file(folder / "vad_student.onnx")
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def make_tiny_text_model(folder: str | Path) -> Path:
    """A complete text model folder (tiny ONNX, tokenizer, config with hashes) for ``TextOnnxRecognizer``.

    Identity temperatures and 0.5 thresholds; VAD unscaled.  Tests of anything that loads a
    text model folder (recognizer, batch, service) use this instead of the shipped model.
    """
    from affectlens.models import sha256_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    make_tiny_text_onnx(folder / "model.onnx")
    make_tiny_tokenizer(folder / "tokenizer.json")
    labels = goemotions_labels(28)
    config = {
        "labels": labels, "label_set": "goemotions", "neutral_label": "neutral",
        "temperatures": [1.0] * len(labels), "thresholds": [0.5] * len(labels),
        "vad": {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "scale_center": 0.0, "scale_half_range": 1.0},
        "sha256": {name: sha256_file(folder / name) for name in ("model.onnx", "tokenizer.json")},
    }
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def add_tiny_vad_branch(folder: str | Path, valence_by_label: dict[str, float],
                        bias: Sequence[float] = (0.0, 0.0, 0.0)) -> Path:
    """Give a ``make_tiny_text_model`` folder a VAD branch (``vad_branch.onnx`` + config entry).

    The branch reads the tiny model's ``hidden_layer3`` [batch, seq, 28] (the word-label
    table), mean-pools it over the mask and maps it linearly to VAD: valence is the sum of
    ``valence_by_label`` over the labels' pooled scores, plus ``bias``.
    """
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    from affectlens.models import sha256_file

    folder = Path(folder)
    labels = goemotions_labels(28)
    weights = np.zeros((28, 3), dtype=np.float32)
    for label, value in valence_by_label.items():
        weights[labels.index(label), 0] = value
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["mask", "axis_last"], ["mask3"]),
            helper.make_node("Mul", ["hidden_layer3", "mask3"], ["masked"]),
            helper.make_node("ReduceSum", ["masked", "axis_seq"], ["summed"], keepdims=0),
            helper.make_node("ReduceSum", ["mask", "axis_seq"], ["count"], keepdims=1),
            helper.make_node("Div", ["summed", "count"], ["pooled"]),
            helper.make_node("MatMul", ["pooled", "w"], ["raw"]),
            helper.make_node("Add", ["raw", "b"], ["vad"]),
        ],
        "affectlens-tiny-vad-branch",
        inputs=[helper.make_tensor_value_info("hidden_layer3", TensorProto.FLOAT, ["batch", "seq", 28]),
                helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        outputs=[helper.make_tensor_value_info("vad", TensorProto.FLOAT, ["batch", 3])],
        initializer=[numpy_helper.from_array(weights, "w"),
                     numpy_helper.from_array(np.asarray(bias, dtype=np.float32), "b"),
                     numpy_helper.from_array(np.array([1], np.int64), "axis_seq"),
                     numpy_helper.from_array(np.array([2], np.int64), "axis_last")],
    )
    save_tiny_onnx(graph, folder / "vad_branch.onnx")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["vad_branch"] = {"file": "vad_branch.onnx", "input": "hidden_layer3"}
    config["sha256"]["vad_branch.onnx"] = sha256_file(folder / "vad_branch.onnx")
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def save_tiny_onnx(graph: Any, path: Path) -> str:
    """Check and write a test graph (opset 13, IR 8: what every onnxruntime here reads); returns its sha256."""
    import hashlib

    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="affectlens.testing")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return hashlib.sha256(path.read_bytes()).hexdigest()
