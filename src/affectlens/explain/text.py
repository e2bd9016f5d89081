"""Word cues: how much each whole word raises a label's logit, read off the model exactly.

The text model mean-pools its last layer and applies a linear head, so a label's logit is
the bias plus the mean over the window's n tokens of ``g_t = W h_t``; the model exports the
per-token terms ``g_t / n`` (``token_logits``, [CLS] and [SEP] included).  Deleting a word
of k word pieces from the pool changes the logit by ``(sum_w g_t - k * mean(g)) / (n - k)``
with the hidden states held fixed: that drop is a word's weight.  It is positive when the
word pulls the label above the text's average token, it does not shrink towards zero for
long texts, and ``benchmarks/text_explanations.py`` checks it against real deletions (which
also change the context).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from affectlens.types import Cue

_WORD = re.compile(r"\S+")
_EDGE_PUNCT = "\"'“”‘’.,;:!?()[]{}<>*_~`"


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of whitespace-delimited words, trimmed of edge punctuation."""
    spans = []
    for match in _WORD.finditer(text):
        start, end = match.span()
        while start < end - 1 and text[start] in _EDGE_PUNCT:
            start += 1
        while end > start + 1 and text[end - 1] in _EDGE_PUNCT:
            end -= 1
        spans.append((start, end))
    return spans


def word_contributions(text: str, windows: Sequence[tuple[Any, np.ndarray]], label_index: int) -> np.ndarray:
    """Each word's logit drop on deletion for one label, averaged over the windows that saw it.

    ``windows``: ``((encoding, first, last), token_logits)`` where ``token_logits`` covers the
    whole window, [CLS] + word pieces ``first:last`` of ``encoding`` + [SEP].
    """
    return _contributions(text, word_spans(text), windows, [label_index])[:, 0]


def _contributions(text: str, spans: list[tuple[int, int]], windows: Sequence[tuple[Any, np.ndarray]],
                   label_indices: Sequence[int]) -> np.ndarray:
    """``word_contributions`` of several labels at once: [words, labels] (the word pieces mapped once)."""
    starts = [s for s, _ in spans]
    total = np.zeros((len(spans), len(label_indices)), dtype=np.float64)
    seen = np.zeros(len(spans), dtype=np.float64)
    if not spans or not label_indices:
        return total
    offsets_of: dict[int, list[tuple[int, int]]] = {}  # ``Encoding.offsets`` builds a new list per access
    for (encoding, first, last), token_logits in windows:
        if id(encoding) not in offsets_of:
            offsets_of[id(encoding)] = encoding.offsets
        offsets = offsets_of[id(encoding)]
        per_token = np.asarray(token_logits[:, label_indices], dtype=np.float64) * len(token_logits)  # g_t [T, k]
        n = len(per_token)
        word_of = np.array([max(0, bisect.bisect_right(starts, char_start) - 1) if char_end > char_start else -1
                            for char_start, char_end in offsets[first:last]], dtype=np.int64)
        values = per_token[1 : 1 + len(word_of)]
        keep = word_of[: len(values)] >= 0
        # only the words inside this window are touched: long texts stay linear in their length
        words, inverse, pieces = np.unique(word_of[: len(values)][keep], return_inverse=True, return_counts=True)
        summed = np.zeros((len(words), len(label_indices)), dtype=np.float64)
        np.add.at(summed, inverse, values[keep])
        total[words] += (summed - pieces[:, None] * per_token.mean(axis=0)) / np.maximum(n - pieces, 1)[:, None]
        seen[words] += 1
    return np.divide(total, seen[:, None], out=np.zeros_like(total), where=seen[:, None] > 0)


def word_cues(text: str, windows: Sequence[tuple[Any, np.ndarray]], labels: Sequence[tuple[str, int]],
              per_label: int = 3, min_weight: float = 0.0) -> list[Cue]:
    """The words that pushed each of ``labels`` up most, strongest first."""
    spans = word_spans(text)
    cues: list[Cue] = []
    contributions = _contributions(text, spans, windows, [index for _, index in labels])
    for column, (label, _) in enumerate(labels):
        contrib = contributions[:, column]
        for word in np.argsort(-contrib)[:per_label]:
            weight = float(contrib[word])
            if weight <= min_weight:
                break
            start, end = spans[word]
            cues.append(Cue(kind="word", phrase=f'"{text[start:end]}" → {label} ({weight:+.3f})',
                            weight=weight, label=label, span=(start, end)))
    return cues


def delete_words(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` without the words at ``spans`` (character spans), whitespace collapsed."""
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + text[end:]
    return " ".join(text.split())


#: a deletion must cost a label at least this much probability for the word to be its cue
MIN_OCCLUSION_DROP = 0.01


def occlusion_cues(text: str, drops: np.ndarray, labels: Sequence[tuple[str, int]],
                   per_label: int = 3, min_drop: float = MIN_OCCLUSION_DROP) -> list[Cue]:
    """The words whose deletion lowers each label's probability most (``drops``: [words, labels]).

    ``drops[w, i]`` is the label's calibrated probability for ``text`` minus that for the text
    without word ``w`` (``delete_words``): the model re-run, context and all, so a cue's weight
    is exactly what deleting it does.
    """
    spans = word_spans(text)
    cues: list[Cue] = []
    for label, index in labels:
        column = drops[:, index]
        for word in np.argsort(-column, kind="stable")[:per_label]:
            weight = float(column[word])
            if weight < min_drop:
                break
            start, end = spans[word]
            cues.append(Cue(kind="word", phrase=f'"{text[start:end]}" → {label} (−{weight:.2f} if deleted)',
                            weight=weight, label=label, span=(start, end)))
    return cues
