"""Emotion-cause spans: which words of a cause turn caused a turn's emotion.

RECCON's causal span extraction (Poria et al. 2021, subtask 1) with the cause turn given:
for an emotional target turn and one of its cause turns (``dialogue/causes.py`` names
those), return a contiguous run of words of the cause turn.  The cause turn is read by
the shipped text encoder (``hidden_layer3`` states and ``token_logits`` of every word
piece, averaged per word); each word also gets a few position / punctuation flags.  The
target enters as its frozen turn features (``text_encoder.TextEncoder.turn_features``, 796
numbers), its emotion, the distance to the cause turn and whether the same person spoke.
A small head (a projection, a bidirectional GRU, start and end scores;
``models/cause-span-reccon-v1``, trained by ``affectlens_recipes/cause_spans.py``) scores every
word as the span's first and last; the span is the best ``start <= end`` pair at most
``max_words`` long.  Inference is numpy only.

Words ("units") are the tokenizer's pre-tokens joined when no space and no splitting
punctuation (``.,!?;:`` ...) lies between them, so ``it'll`` is one word and ``Lisbon!`` two.
A span is therefore always a substring of the cause turn, from the start of a word to
the end of a word; ``CauseSpan.start``/``end`` are character offsets in that turn's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.dialogue.causes import CAUSE_EMOTIONS, MAX_DISTANCE

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "cause-span-reccon-v1"
#: characters that always end a word (and form words of their own)
SPLIT_PUNCT = frozenset(".,!?;:\u2026\"()[]")
SENTENCE_END = frozenset(".!?\u2026")
#: word pieces read per cause turn; words past them cannot be part of a span
MAX_PIECES = 254
N_FLAGS = 10
#: arrays of a span model file, in the order of the forward pass
PARAMETERS = ("word_mean", "word_scale", "context_mean", "context_scale", "w_word", "w_context", "b_in",
              "fw_w_ih", "fw_w_hh", "fw_b_ih", "fw_b_hh", "bw_w_ih", "bw_w_hh", "bw_b_ih", "bw_b_hh",
              "w_out", "b_out")


@dataclass(frozen=True)
class CauseSpan:
    """A cause span: ``text == turn_text[start:end]``; ``score`` is the start + end log-probability."""

    text: str
    start: int
    end: int
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end, "score": round(self.score, 4)}


@dataclass(frozen=True)
class EncodedTurn:
    """A turn's words (character ranges) and one feature row per word (hidden states, token logits)."""

    text: str
    units: tuple[tuple[int, int], ...]
    states: np.ndarray

    def __len__(self) -> int:
        return len(self.units)


def word_units(text: str, offsets: Sequence[tuple[int, int]], word_ids: Sequence[int | None]) -> list[list[int]]:
    """Group word pieces into words: the piece indices of each word, in order.

    Pre-tokens (``word_ids``) are joined when nothing lies between them in ``text`` and
    neither is splitting punctuation, so "it ' ll" is one word and "fun ." two.
    """
    groups: list[list[int]] = []
    last_word: int | None = None
    last_end = -1
    last_split = True
    for piece, ((start, end), word) in enumerate(zip(offsets, word_ids, strict=True)):
        if end <= start:
            continue
        if word is not None and word == last_word and groups:
            groups[-1].append(piece)
            last_end = end
            continue
        token = text[start:end]
        split = token in SPLIT_PUNCT
        if groups and start == last_end and not split and not last_split:
            groups[-1].append(piece)
        else:
            groups.append([piece])
        last_word, last_end, last_split = word, end, split
    return groups


def encode_turns(text_model: Any, texts: Sequence[str], *, max_pieces: int = MAX_PIECES,
                 batch_size: int = 64) -> list[EncodedTurn]:
    """Per text: its words and per-word features ``[mean hidden_layer3, mean token_logits / 5]``.

    ``text_model`` is a ``TextOnnxRecognizer`` whose model exposes ``hidden_layer3``
    (``affectlens_recipes/onnx_outputs.py``); the first ``max_pieces`` word pieces are read.
    """
    text_model.load()
    tokenizer = text_model._tokenizer
    session = text_model._session
    cls_id = tokenizer.token_to_id("[CLS]")
    sep_id = tokenizer.token_to_id("[SEP]")
    encodings = tokenizer.encode_batch([str(t) for t in texts], add_special_tokens=False)
    pieces: list[list[int]] = []
    groups_of: list[list[list[int]]] = []
    for text, enc in zip(texts, encodings, strict=True):
        groups = [g for g in word_units(text, enc.offsets, enc.word_ids) if g[-1] < max_pieces]
        groups_of.append(groups)
        pieces.append(list(enc.ids[:max_pieces]))
    out: list[EncodedTurn | None] = [None] * len(texts)
    todo = [i for i in range(len(texts)) if groups_of[i]]
    for i in range(len(texts)):
        if not groups_of[i]:
            out[i] = EncodedTurn(texts[i], (), np.zeros((0, 0), dtype=np.float32))
    todo.sort(key=lambda i: len(pieces[i]))
    for b in range(0, len(todo), batch_size):
        chunk = todo[b: b + batch_size]
        width = max(len(pieces[i]) for i in chunk) + 2
        ids = np.zeros((len(chunk), width), dtype=np.int64)
        mask = np.zeros((len(chunk), width), dtype=np.int64)
        for row, i in enumerate(chunk):
            seq = [cls_id, *pieces[i], sep_id]
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        hidden, token_logits = session.run(["hidden_layer3", "token_logits"],
                                           {"input_ids": ids, "attention_mask": mask})
        for row, i in enumerate(chunk):
            n = len(pieces[i])
            out[i] = _encoded(texts[i], encodings[i], groups_of[i], hidden[row, 1 : n + 1],
                              token_logits[row, 1 : n + 1])
    return [turn for turn in out if turn is not None]


def encode_turn_from_states(text: str, encoding: Any, hidden: np.ndarray, token_logits: np.ndarray,
                            ) -> EncodedTurn:
    """``encode_turns`` for one text from states already computed over all its word pieces.

    ``hidden`` ([pieces, H]: ``hidden_layer3``) and ``token_logits`` ([pieces, L]) are the
    rows of the text's pieces, without ``[CLS]``/``[SEP]``, from a pass over ``[CLS]`` + every
    piece + ``[SEP]`` (what ``encode_turns`` runs for a text of at most ``MAX_PIECES`` pieces).
    """
    groups = word_units(text, encoding.offsets, encoding.word_ids)
    if not groups:
        return EncodedTurn(text, (), np.zeros((0, 0), dtype=np.float32))
    return _encoded(text, encoding, groups, hidden, token_logits)


def _encoded(text: str, encoding: Any, groups: list[list[int]], hidden: np.ndarray,
             token_logits: np.ndarray) -> EncodedTurn:
    per_piece = np.concatenate([hidden, token_logits / 5.0], axis=1)
    states = np.stack([per_piece[g].mean(0) for g in groups]).astype(np.float32)
    units = tuple((encoding.offsets[g[0]][0], encoding.offsets[g[-1]][1]) for g in groups)
    return EncodedTurn(text, units, states)


def word_flags(text: str, units: Sequence[tuple[int, int]]) -> np.ndarray:
    """``N_FLAGS`` numbers per word: position and punctuation around it."""
    n = len(units)
    flags = np.zeros((n, N_FLAGS), dtype=np.float32)
    words = [text[s:e] for s, e in units]
    ends = [w in SENTENCE_END or (len(w) > 0 and all(ch in SENTENCE_END for ch in w)) for w in words]
    punct = [len(w) > 0 and all(ch in SPLIT_PUNCT for ch in w) for w in words]
    for i in range(n):
        flags[i] = (
            i / max(1, n - 1), float(i == 0), float(i == n - 1), float(punct[i]), float(ends[i]),
            float(i > 0 and ends[i - 1]), float(i > 0 and punct[i - 1]), float(i + 1 < n and punct[i + 1]),
            float(i + 1 < n and ends[i + 1]), np.log1p(n) / 4.0)
    return flags


def span_context(target_features: np.ndarray, emotion: str, distance: int, same_speaker: bool) -> np.ndarray:
    """What the span head knows about the target: its turn features, emotion, distance, speaker."""
    emotion_vec = np.zeros(len(CAUSE_EMOTIONS), dtype=np.float32)
    emotion_vec[CAUSE_EMOTIONS.index(emotion)] = 1.0
    distance_vec = np.zeros(MAX_DISTANCE + 1, dtype=np.float32)
    distance_vec[min(max(distance, 0), MAX_DISTANCE)] = 1.0
    return np.concatenate([np.asarray(target_features, dtype=np.float32), emotion_vec, distance_vec,
                           np.array([float(same_speaker)], dtype=np.float32)])


def best_span(start_scores: np.ndarray, end_scores: np.ndarray, max_words: int) -> tuple[int, int, float]:
    """``(i, j, score)`` maximising ``start_scores[i] + end_scores[j]`` with ``i <= j < i + max_words``."""
    n = len(start_scores)
    if n == 0 or len(end_scores) != n:
        raise ValueError("start and end scores must be non-empty and of one length")
    total = np.asarray(start_scores, dtype=np.float64)[:, None] + np.asarray(end_scores, dtype=np.float64)[None, :]
    i, j = np.indices((n, n))
    total[(j < i) | (j - i >= max(1, max_words))] = -np.inf
    flat = int(np.argmax(total))
    return flat // n, flat % n, float(total.flat[flat])


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max()
    return np.asarray(shifted - np.log(np.exp(shifted).sum()))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _gru(x: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    """A one-layer GRU over ``x`` [T, in] with PyTorch's gate layout (r, z, n); returns [T, H]."""
    hidden = w_hh.shape[1]
    h = np.zeros(hidden, dtype=np.float32)
    gates_x = x @ w_ih.T + b_ih
    out = np.zeros((len(x), hidden), dtype=np.float32)
    for t in range(len(x)):
        gates_h = w_hh @ h + b_hh
        r = _sigmoid(gates_x[t, :hidden] + gates_h[:hidden])
        z = _sigmoid(gates_x[t, hidden: 2 * hidden] + gates_h[hidden: 2 * hidden])
        n = np.tanh(gates_x[t, 2 * hidden:] + r * gates_h[2 * hidden:])
        h = (1.0 - z) * n + z * h
        out[t] = h
    return out


@dataclass(frozen=True)
class SpanModel:
    """The span head's arrays (``PARAMETERS``) and the longest span it returns, in words."""

    params: dict[str, np.ndarray]
    max_words: int
    name: str = "cause.span-reccon.v1"
    text_model_sha256: str | None = None

    @classmethod
    def load(cls, folder: Path = DEFAULT_MODEL_DIR, *, verify: bool = True) -> SpanModel:
        from affectlens.dialogue.causes import read_npz_model_folder
        from affectlens.model_folder import ModelFilesError

        config, path = read_npz_model_folder(folder, "cause span model", verify=verify)
        with np.load(path, allow_pickle=False) as data:
            missing = [p for p in PARAMETERS if p not in data.files]
            if missing:
                raise ModelFilesError(f"{path} lacks {', '.join(missing)}")
            params = {p: np.asarray(data[p], dtype=np.float32) for p in PARAMETERS}
        return cls(params, int(config["max_words"]), str(config.get("name", cls.name)),
                   config.get("text_model_sha256"))

    @property
    def word_dim(self) -> int:
        """Length of an ``EncodedTurn.states`` row the model expects (without the flags)."""
        return int(self.params["w_word"].shape[0]) - N_FLAGS

    @property
    def context_dim(self) -> int:
        return int(self.params["w_context"].shape[0])

    def scores(self, turn: EncodedTurn, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start and end log-probabilities over the turn's words."""
        p = self.params
        if turn.states.shape[1] != self.word_dim or context.shape[-1] != self.context_dim:
            raise ValueError(f"span model expects word features of {self.word_dim} and a context of "
                             f"{self.context_dim}, got {turn.states.shape[1]} and {context.shape[-1]}")
        words = np.concatenate([turn.states, word_flags(turn.text, turn.units)], axis=1)
        words = (words - p["word_mean"]) / p["word_scale"]
        ctx = (np.asarray(context, dtype=np.float32) - p["context_mean"]) / p["context_scale"]
        u = np.tanh(words @ p["w_word"] + ctx @ p["w_context"] + p["b_in"]).astype(np.float32)
        forward = _gru(u, p["fw_w_ih"], p["fw_w_hh"], p["fw_b_ih"], p["fw_b_hh"])
        backward = _gru(u[::-1], p["bw_w_ih"], p["bw_w_hh"], p["bw_b_ih"], p["bw_b_hh"])[::-1]
        logits = np.concatenate([forward, backward, u], axis=1) @ p["w_out"] + p["b_out"]
        return _log_softmax(logits[:, 0]), _log_softmax(logits[:, 1])

    def predict(self, turn: EncodedTurn, context: np.ndarray, max_words: int | None = None) -> CauseSpan | None:
        """The cause span in ``turn`` (None when the turn has no words)."""
        if not len(turn):
            return None
        start, end = self.scores(turn, context)
        i, j, score = best_span(start, end, max_words or self.max_words)
        return span_of(turn, i, j, score)


def span_of(turn: EncodedTurn, i: int, j: int, score: float = 0.0) -> CauseSpan:
    """The span from word ``i`` to word ``j`` (inclusive) of ``turn``."""
    start, end = turn.units[i][0], turn.units[j][1]
    return CauseSpan(turn.text[start:end], start, end, score)


__all__ = ["DEFAULT_MODEL_DIR", "CauseSpan", "EncodedTurn", "SpanModel", "best_span", "encode_turn_from_states",
           "encode_turns",
           "span_context", "span_of", "word_flags", "word_units"]
