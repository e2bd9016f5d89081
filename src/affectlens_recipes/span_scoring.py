"""SQuAD-style scoring of predicted cause spans (exact match, token F1, RECCON's F1), as RECCON reports them."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence


def normalize_answer(text: str) -> str:
    """SQuAD v1.1: lower case, drop punctuation and the articles a/an/the, squeeze spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str) -> float:
    predicted, truth = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not predicted or not truth:
        return float(predicted == truth)
    common = sum((Counter(predicted) & Counter(truth)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(truth)
    return 2 * precision * recall / (precision + recall)


def reccon_f1(prediction: str, gold: str) -> float:
    """RECCON ``eval_qa.py``: 1 when equal, token F1 when one contains the other, else 0."""
    p, g = prediction.strip(), gold.strip()
    if p == g:
        return 1.0
    if p and (p in g or g in p):
        return token_f1(p, g)
    return 0.0


def span_scores(predictions: Sequence[str], golds: Sequence[Sequence[str]]) -> dict[str, float]:
    """Mean exact match, token F1 and RECCON F1 over pairs, each the best over the pair's gold spans."""
    n = max(1, len(predictions))
    return {
        "exact_match": round(sum(max(exact_match(p, g) for g in gs) for p, gs in zip(predictions, golds,
                                                                                     strict=True)) / n, 4),
        "f1": round(sum(max(token_f1(p, g) for g in gs) for p, gs in zip(predictions, golds, strict=True)) / n, 4),
        "reccon_f1": round(sum(max(reccon_f1(p, g) for g in gs) for p, gs in zip(predictions, golds,
                                                                                 strict=True)) / n, 4),
    }
