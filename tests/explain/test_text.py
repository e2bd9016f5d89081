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


def test_delete_words_removes_spans_and_collapses_spaces() -> None:
    from affectlens.explain.text import delete_words

    text = "I am so happy today!"
    assert delete_words(text, [(8, 13)]) == "I am so today!"
    assert delete_words(text, [(0, 1), (8, 13)]) == "am so today!"
    assert delete_words("wow", [(0, 3)]) == ""


def test_occlusion_cues_rank_by_lost_probability_and_skip_tiny_losses() -> None:
    import numpy as np

    from affectlens.explain.text import occlusion_cues

    text = "so very happy"
    drops = np.array([[0.02, 0.0], [0.005, 0.3], [0.7, -0.1]])  # [words, labels]
    cues = occlusion_cues(text, drops, [("joy", 0), ("anger", 1)], per_label=3)
    assert [(c.label, text[c.span[0]:c.span[1]]) for c in cues if c.span] == \
        [("joy", "happy"), ("joy", "so"), ("anger", "very")]
    assert cues[0].weight == pytest.approx(0.7) and "if deleted" in cues[0].phrase
