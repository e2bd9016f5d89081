"""Long texts: sentence windows with a result each, and a document aggregate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import affectlens.recognizers.text_onnx as text_onnx
import affectlens.recognizers.text_windows as text_windows
from affectlens.recognizers.text_onnx import TextOnnxRecognizer
from affectlens.recognizers.text_windows import AGGREGATE, sentence_spans
from affectlens.testing import make_tiny_text_model

TEXT = ("I am so happy today. The day was long and the road was longer, but we got home. "
        "I am sad.\nAnd then, honestly, I am furious!  Wow.")


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_text_model(tmp_path_factory.mktemp("tiny-text-windows"))


def _count_passes(rec: TextOnnxRecognizer, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of texts of each model pass ``rec`` makes from now on."""
    sizes: list[int] = []
    original = rec._infer

    def spy(texts: list[str], *args: object, **kwargs: object) -> object:
        sizes.append(len(texts))
        return original(texts, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rec, "_infer", spy)
    return sizes


def _pieces(rec: TextOnnxRecognizer, text: str) -> int:
    return len(rec._tokenizer.encode(text, add_special_tokens=False).ids)


def test_sentence_spans() -> None:
    text = 'He said "hi." Then left!  What?\nNew line\n\n  Last one... ok  '
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        'He said "hi."', "Then left!", "What?", "New line", "Last one...", "ok"]
    assert list(sentence_spans("  \n ")) == []
    assert list(sentence_spans("no end")) == [(0, 6)]


def test_windows_cover_the_text_in_order_and_fit_the_model(tiny_model_dir: Path) -> None:
    rec = TextOnnxRecognizer(tiny_model_dir, max_tokens=12)
    [result] = rec.analyze([TEXT])
    document, *windows = result.segments
    assert document.extras["aggregate"] == AGGREGATE
    assert document.extras["windows"] == len(windows) > 2
    assert document.extras["span"] == [0, len(TEXT)] and document.text == TEXT
    previous_end = 0
    for i, window in enumerate(windows):
        start, end = window.extras["span"]
        assert window.extras["window"] == i
        assert window.text == TEXT[start:end] and start >= previous_end
        assert _pieces(rec, window.text) <= rec.max_tokens - 2  # each window fits the model
        previous_end = end
        for cue in window.cues:  # cue spans are in the document's coordinates
            assert cue.span is not None and start <= cue.span[0] < cue.span[1] <= end
            assert f'"{TEXT[cue.span[0]:cue.span[1]]}"' in cue.phrase
    # whole sentences stay together when they fit: "I am sad." is in exactly one window
    sad = TEXT.index("I am sad.")
    assert sum(w.extras["span"][0] <= sad < w.extras["span"][1] for w in windows) == 1
    furious = next(w for w in windows if "furious" in (w.text or ""))
    assert furious.scores["anger"] == max(w.scores["anger"] for w in windows)  # read where it is said


def test_document_aggregate_is_the_length_weighted_mean(tiny_model_dir: Path) -> None:
    rec = TextOnnxRecognizer(tiny_model_dir, max_tokens=12)
    [result] = rec.analyze([TEXT])
    document, *windows = result.segments
    labels = rec.config.labels
    weights = np.asarray([_pieces(rec, w.text or "") for w in windows], dtype=float)
    weights /= weights.sum()
    expected = np.asarray([[w.scores[label] for label in labels] for w in windows]).T @ weights
    assert [document.scores[label] for label in labels] == pytest.approx(list(expected), abs=1e-6)
    thresholds = dict(zip(labels, rec.config.thresholds, strict=True))
    assert set(document.labels) == {label for label in labels if document.scores[label] >= thresholds[label]}
    valence = sum(w.vad.valence * x for w, x in zip(windows, weights, strict=True))  # type: ignore[union-attr]
    assert document.vad.valence == pytest.approx(valence, abs=1e-6)  # type: ignore[union-attr]
    assert {c.label for c in document.cues} <= set(document.labels)


def test_a_sentence_longer_than_a_window_is_cut_between_words(tiny_model_dir: Path) -> None:
    rec = TextOnnxRecognizer(tiny_model_dir, max_tokens=8)
    text = " ".join(["the day was"] * 12) + " and I am furious"
    [result] = rec.analyze([text])
    windows = result.segments[1:]
    assert len(windows) > 3
    for window in windows:
        start, end = window.extras["span"]
        assert _pieces(rec, text[start:end]) <= 6
        assert start == 0 or text[start - 1] == " "  # starts at a word
        assert end == len(text) or text[end] == " "  # ends at a word


def test_same_result_from_either_route_and_bounded_passes(tiny_model_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    rec = TextOnnxRecognizer(tiny_model_dir, max_tokens=12)
    [via_tokens] = rec.analyze([TEXT])  # short enough to be tokenised whole, then routed
    monkeypatch.setattr(text_onnx, "LONG_TEXT_CHARS", 10)  # straight to sentence windows
    monkeypatch.setattr(text_windows, "WINDOWS_PER_PASS", 2)
    monkeypatch.setattr(text_windows, "SENTENCES_PER_BLOCK", 2)
    sizes = _count_passes(rec, monkeypatch)
    [direct] = rec.analyze([TEXT, "wow"])[:1]
    assert max(sizes[1:]) <= 2  # the windows ran two at a time
    assert [s.extras for s in direct.segments] == [s.extras for s in via_tokens.segments]
    for one, other in zip(direct.segments, via_tokens.segments, strict=True):
        assert one.labels == other.labels
        assert one.scores == pytest.approx(other.scores, abs=1e-6)


def test_short_texts_are_unchanged(tiny_model_dir: Path) -> None:
    rec = TextOnnxRecognizer(tiny_model_dir)
    [result] = rec.analyze(["I am so happy today"])
    assert len(result.segments) == 1 and "aggregate" not in result.segments[0].extras


def test_a_streamed_document_holds_no_window_and_puts_the_aggregate_last(tiny_model_dir: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from affectlens.inputs import TextItem

    rec = TextOnnxRecognizer(tiny_model_dir, max_tokens=12)
    monkeypatch.setattr(text_windows, "WINDOWS_PER_PASS", 2)  # windows come two by two
    item = TextItem(TEXT, source="doc.txt")
    whole = text_windows.analyze_document(rec, item)
    passes = _count_passes(rec, monkeypatch)
    streamed = rec.stream_document(item)
    reading = iter(streamed)
    first = next(reading)
    assert first.extras["window"] == 0 and len(passes) == 1  # made by the first pass, before the others ran
    rest = list(reading)
    assert [first, *rest[:-1]] == list(whole.segments[1:])  # the windows, identical and in order
    assert rest[-1] == whole.segments[0] and rest[-1].extras["aggregate"] == AGGREGATE  # the aggregate, last
    assert streamed.source == "doc.txt" and streamed.warnings == ()


def test_a_document_that_fits_one_window_streams_as_one_segment(tiny_model_dir: Path) -> None:
    from affectlens.inputs import TextItem

    rec = TextOnnxRecognizer(tiny_model_dir)
    item = TextItem("I am so happy today.      " + " " * 40)
    assert list(rec.stream_document(item)) == list(text_windows.analyze_document(rec, item).segments)


def test_the_walk_streams_a_long_text_file_with_progress_in_characters(tiny_model_dir: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from affectlens.options import AnalyzeOptions
    from affectlens.processing import ProgressUpdate, start_analysis
    from affectlens.types import StreamedResult

    monkeypatch.setattr(text_onnx, "LONG_TEXT_CHARS", 50)
    monkeypatch.setattr(text_windows, "WINDOWS_PER_PASS", 1)
    path = tmp_path / "doc.txt"
    path.write_text(TEXT * 3, encoding="utf-8")
    rec = TextOnnxRecognizer(tiny_model_dir, max_tokens=12)
    updates: list[ProgressUpdate] = []
    analysis = start_analysis(path, model=rec, options=AnalyzeOptions(stream_segments=True), progress=updates.append)
    assert analysis.streamed is not None
    (result,) = list(analysis.streamed)
    assert isinstance(result, StreamedResult)
    segments = list(result)
    assert "aggregate" in segments[-1].extras and all("window" in s.extras for s in segments[:-1])
    assert segments[-1].record_id == segments[0].record_id and segments[0].source == str(path)
    chars = [u for u in updates if u.unit == "characters"]
    dones = [u.done for u in chars]
    assert len(dones) >= 3 and dones == sorted(dones) and dones[-1] <= len(TEXT) * 3
    whole = start_analysis(path, model=rec).results  # the library's route: the aggregate first, as always
    assert "aggregate" in next(iter(whole)).segments[0].extras
