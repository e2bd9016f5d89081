from __future__ import annotations

from affectlens.explain.text import word_spans


def test_word_spans_trim_punctuation() -> None:
    text = 'Wow, "this" is great!!'
    assert [text[s:e] for s, e in word_spans(text)] == ["Wow", "this", "is", "great"]


def test_word_spans_keep_inner_apostrophes_and_lone_marks() -> None:
    text = "I can't — really"
    assert [text[s:e] for s, e in word_spans(text)] == ["I", "can't", "—", "really"]
