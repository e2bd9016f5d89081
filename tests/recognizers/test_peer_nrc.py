"""The NRC lexicon peer: word counts on the Ekman labels it can express, neutral without hits."""

from __future__ import annotations

import pytest

from affectlens.testing import check_recognizer

pytest.importorskip("nrclex")

from affectlens.recognizers.peer_nrc import NrcLexiconRecognizer


def test_emotion_words_are_counted_and_cited() -> None:
    (result,) = NrcLexiconRecognizer().analyze(["I am furious about this"])
    (segment,) = result.segments
    assert segment.label_set == "ekman" and "anger" in segment.labels
    assert sum(segment.scores.values()) == pytest.approx(1.0)
    assert any(c.label == "anger" and c.span == (5, 12) for c in segment.cues)
    assert segment.vad is not None and segment.vad.valence < 0


def test_no_emotion_word_is_neutral_and_bad_input_is_an_empty_result() -> None:
    plain, empty = NrcLexiconRecognizer().analyze(["The store opens at nine.", "   "])
    assert plain.segments[0].labels == ("neutral",) and plain.segments[0].cues == ()
    assert empty.is_empty and empty.warnings


def test_contract() -> None:
    check_recognizer(NrcLexiconRecognizer(), ["so happy", "I hate this", "ok"], factory=NrcLexiconRecognizer)
