"""Word cues: the share of each whole word in a label's logit.

The text model mean-pools its last layer and applies a linear head, so a label's logit
is exactly the bias plus the sum over tokens of ``W h_t / n``; the model exports those
per-token terms (``token_logits``).  Here they are summed over the word pieces of each
whitespace-delimited word, giving each word's additive contribution (in logit units).
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
    """Each word's contribution to one label's logit, averaged over the windows that saw it."""
    spans = word_spans(text)
    starts = [s for s, _ in spans]
    total = np.zeros(len(spans), dtype=np.float64)
    seen = np.zeros(len(spans), dtype=np.float64)
    for (encoding, first, last), token_logits in windows:
        offsets = encoding.offsets[first:last]
        contrib = np.zeros(len(spans), dtype=np.float64)
        hit = np.zeros(len(spans), dtype=bool)
        for (char_start, char_end), value in zip(offsets, token_logits[:, label_index], strict=False):
            if char_end <= char_start or not spans:
                continue
            word = max(0, bisect.bisect_right(starts, char_start) - 1)
            contrib[word] += float(value)
            hit[word] = True
        total += contrib
        seen += hit
    return np.divide(total, seen, out=np.zeros_like(total), where=seen > 0)


def word_cues(text: str, windows: Sequence[tuple[Any, np.ndarray]], labels: Sequence[tuple[str, int]],
              per_label: int = 3, min_weight: float = 0.05) -> list[Cue]:
    """The words that pushed each of ``labels`` up most, strongest first."""
    spans = word_spans(text)
    cues: list[Cue] = []
    for label, index in labels:
        contrib = word_contributions(text, windows, index)
        for word in np.argsort(-contrib)[:per_label]:
            weight = float(contrib[word])
            if weight < min_weight:
                break
            start, end = spans[word]
            cues.append(Cue(kind="word", phrase=f'"{text[start:end]}" → {label} ({weight:+.2f})',
                            weight=weight, label=label, span=(start, end)))
    return cues
