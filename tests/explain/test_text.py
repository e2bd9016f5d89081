from __future__ import annotations

import pytest

from affectlens.explain.text import word_spans


def test_word_spans_trim_punctuation() -> None:
    text = 'Wow, "this" is great!!'
    assert [text[s:e] for s, e in word_spans(text)] == ["Wow", "this", "is", "great"]


def test_word_spans_keep_inner_apostrophes_and_lone_marks() -> None:
    text = "I can't — really"
    assert [text[s:e] for s, e in word_spans(text)] == ["I", "can't", "—", "really"]


class _Encoding:
    def __init__(self, offsets: list[tuple[int, int]]) -> None:
        self.offsets = offsets


def test_word_weight_is_the_logit_drop_when_the_word_is_deleted() -> None:
    import numpy as np

    from affectlens.explain.text import word_contributions

    text = "so very happy"
    # word pieces: "so", "very", "hap", "##py"; g_t per token incl. [CLS] and [SEP]
    g = np.array([0.5, 0.1, 0.2, 2.0, 1.0, 0.2])
    n = len(g)
    shares = (g / n)[:, None]  # what the model exports: g_t / n, one label
    encoding = _Encoding([(0, 2), (3, 7), (8, 11), (11, 13)])
    weights = word_contributions(text, [((encoding, 0, 4), shares)], 0)
    keep_all = g.mean()
    without_happy = np.delete(g, [3, 4]).mean()
    without_so = np.delete(g, [1]).mean()
    assert weights[2] == pytest.approx(keep_all - without_happy)
    assert weights[0] == pytest.approx(keep_all - without_so)
    assert weights[2] > 0 > weights[0]
