from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import affectlens
from affectlens import processing, recognizer_pool
from affectlens.inputs import TextItem
from affectlens.io import EmptyInput, InputNotFound, MissingColumn, UnsupportedInput
from affectlens.processing import (
    AffectlensWarning,
    ProgressUpdate,
    RecognizerPool,
    iter_results,
    looks_like_path,
    map_result,
    plan_input,
    start_analysis,
)
from affectlens.testing import DummyRecognizer
from affectlens.types import EmotionResult, Modality, Provenance, Segment

DUMMY = "dummy.keywords.v1"


def _texts(results: Sequence[EmotionResult]) -> list[str | None]:
    return [r.segments[0].text if r.segments else None for r in results]


# -- what an input is ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("reviews.csv", True),
        ("data/notes.txt", True),
        ("~/x/y", True),
        ("clip.wav", True),
        ("I love it", False),
        ("and/or I hate it", False),
        ("so happy.", False),
        ("wow", False),
        ("line one\nline two.txt", False),
        ("", False),
    ],
)
def test_looks_like_path(value: str, expected: bool) -> None:
    assert looks_like_path(value) is expected


def test_single_text_gives_one_result() -> None:
    result = affectlens.analyze("I am so happy today", model=DUMMY)
    assert isinstance(result, EmotionResult)
    assert result.segments[0].top_label == "joy"


def test_text_item_keeps_its_id() -> None:
    result = affectlens.analyze(TextItem("so sad", record_id="x1"), model=DUMMY)
    assert result.record_id == "x1" and result.segments[0].record_id == "x1"


def test_missing_path_and_empty_text() -> None:
    with pytest.raises(InputNotFound, match=r"file not found: nothing/here\.csv"):
        plan_input("nothing/here.csv")
    with pytest.raises(EmptyInput):
        plan_input("   ")


def test_document_file_is_one_text(tmp_path: Path) -> None:
    path = tmp_path / "letter.txt"
    path.write_text("I am happy.\nBut I am also scared.\n", encoding="utf-8")
    result = affectlens.analyze(path, model=DUMMY)
    assert isinstance(result, EmotionResult)
    assert result.segments[0].text == "I am happy.\nBut I am also scared."
    assert result.source == str(path)


def test_unsupported_file_type(tmp_path: Path) -> None:
    path = tmp_path / "clip.xyz"
    path.write_text("x")
    with pytest.raises(UnsupportedInput, match=r"unsupported file type '\.xyz'"):
        plan_input(path)


def test_list_of_texts_is_an_iterator_in_order() -> None:
    texts = ["I am happy", "I am angry", "I am scared", "nothing here"]
    results = affectlens.analyze(texts, model=DUMMY, batch_size=3)
    assert not isinstance(results, EmotionResult)
    assert _texts(list(results)) == texts


# -- tables -------------------------------------------------------------------------------------

ROWS: list[dict[str, Any]] = [
    {"id": "a", "text": "I am so happy"},
    {"id": "b", "text": None},
    {"id": "c", "text": "   "},
    {"id": "d", "text": "furious about the delay"},
    {"id": "e", "text": "wow"},
]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_table_one_result_per_row_in_order_with_ids(table_writer, suffix: str) -> None:  # type: ignore[no-untyped-def]
    path = table_writer(f"t{suffix}", ROWS)
    results = list(iter_results(path, model=DUMMY, column="text", id_column="id", batch_size=2))
    assert [r.record_id for r in results] == ["a", "b", "c", "d", "e"]
    assert [r.is_empty for r in results] == [False, True, True, False, False]
    assert results[0].segments[0].record_id == "a" and results[0].segments[0].source == str(path)
    assert results[1].warnings == ("row 2 (id 'b'): missing value",)
    assert results[2].warnings == ("row 3 (id 'c'): empty text",)
    assert results[3].segments[0].top_label == "anger"


def test_table_without_id_column_uses_row_numbers(table_writer) -> None:  # type: ignore[no-untyped-def]
    path = table_writer("t.csv", ROWS)
    results = list(iter_results(path, model=DUMMY))
    assert [r.record_id for r in results] == ["1", "2", "3", "4", "5"]
    assert results[1].warnings == ("row 2: missing value",)


def test_non_text_cells_are_reported(table_writer) -> None:  # type: ignore[no-untyped-def]
    path = table_writer("t.jsonl", [{"text": 42}, {"text": ["x"]}, {"text": "glad"}])
    results = list(iter_results(path, model=DUMMY))
    assert results[0].warnings == ("row 1: expected text, got int",)
    assert results[1].warnings == ("row 2: expected text, got list",)
    assert not results[2].is_empty


def test_table_errors_come_before_any_result(table_writer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = table_writer("t.parquet", ROWS)
    with pytest.raises(MissingColumn):
        start_analysis(path, model=DUMMY, column="body")
    empty = tmp_path / "empty.csv"
    empty.write_text("text\n", encoding="utf-8")
    with pytest.raises(EmptyInput, match="has no rows"):
        start_analysis(empty, model=DUMMY)


def test_large_csv_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id,text\n")
        for i in range(60_000):
            fh.write(f"{i},I am happy and a little worried about line number {i}\n")
    seen: list[ProgressUpdate] = []
    analysis = start_analysis(path, model=DUMMY, id_column="id", batch_size=100, progress=seen.append)
    first = [next(analysis.results) for _ in range(150)]
    assert [r.record_id for r in first] == [str(i) for i in range(150)]
    assert seen and seen[-1].fraction is not None and seen[-1].fraction < 0.5  # most of the file unread
    assert seen[-1].total is None and seen[-1].unit == "rows"


def test_generated_csv_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("text\n" + "".join(f"text {i} is great\n" if i % 7 else '""\n' for i in range(3_000)))
    results = list(iter_results(path, model=DUMMY, batch_size=128))
    assert len(results) == 3_000
    assert sum(r.is_empty for r in results) == len(range(0, 3_000, 7))


# -- folders ------------------------------------------------------------------------------------


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    (root / "b").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "a.txt").write_text("so happy", encoding="utf-8")
    (root / "b" / "c.md").write_text("so sad", encoding="utf-8")
    (root / "b" / "empty.txt").write_text("", encoding="utf-8")
    (root / "b" / "bad.txt").write_bytes(b"\xff\xfe\xfa")
    (root / "z.txt").write_text("scared", encoding="utf-8")
    (root / ".hidden" / "x.txt").write_text("hidden", encoding="utf-8")
    (root / "image.gif").write_bytes(b"GIF89a")  # not a supported input (images are .jpg/.png/...)
    return root


def test_folder_walk_in_sorted_order(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    seen: list[ProgressUpdate] = []
    with pytest.warns(AffectlensWarning, match=r"skipped 1 file.*\.gif"):
        results = list(iter_results(root, model=DUMMY, batch_size=2, progress=seen.append))
    assert [r.record_id for r in results] == ["a.txt", "b/bad.txt", "b/c.md", "b/empty.txt", "z.txt"]
    assert [r.is_empty for r in results] == [False, True, False, True, False]
    assert results[1].warnings[0].startswith("file b/bad.txt: cannot read")
    assert "empty input" in results[3].warnings[0]
    assert [u.done for u in seen] == [2, 4, 5] and seen[-1].total == 5 and seen[-1].fraction == 1.0


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(EmptyInput, match="no supported files"):
        plan_input(tmp_path)


# -- dispatch, failures, label sets -------------------------------------------------------------


class _EchoSpeech:
    """A fake speech recognizer for dispatch tests (its inputs are file contents)."""

    name = "speech.echo.v1"
    version = "v1"
    modality = Modality.SPEECH
    label_set = "sentiment"

    def __init__(self) -> None:
        self.batches: list[int] = []

    def load(self) -> None:
        pass

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        self.batches.append(len(batch))
        seg = Segment(
            Modality.SPEECH,
            "sentiment",
            {"positive": 0.2, "negative": 0.1, "neutral": 0.7},
            ("neutral",),
            None,
            0.7,
            Provenance(self.name, self.version),
        )
        return [EmotionResult((seg,)) for _ in batch]


def test_dispatch_by_suffix_keeps_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        processing.FILE_TYPES,
        ".fakewav",
        processing.FileType(Modality.SPEECH, lambda path, rid: path.read_bytes()),
    )
    for name, content in [("1.txt", "happy"), ("2.fakewav", "x"), ("3.txt", "sad"), ("4.fakewav", "y")]:
        (tmp_path / name).write_text(content)
    speech = _EchoSpeech()
    results = list(iter_results(tmp_path, model=[DummyRecognizer(), speech], batch_size=4))
    assert [r.segments[0].modality for r in results] == [Modality.TEXT, Modality.SPEECH] * 2
    assert [r.record_id for r in results] == ["1.txt", "2.fakewav", "3.txt", "4.fakewav"]
    assert speech.batches == [2]


class _Fragile(DummyRecognizer):
    """Fails on any text containing 'boom'."""

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        if any("boom" in str(getattr(x, "text", x)) for x in batch):
            raise RuntimeError("kaboom")
        return super().analyze(batch)


def test_a_failing_item_does_not_lose_the_batch() -> None:
    results = list(iter_results(["happy", "boom", "sad"], model=_Fragile()))
    assert [r.is_empty for r in results] == [False, True, False]
    assert "item 2: dummy.keywords.v1 failed: RuntimeError: kaboom" in results[1].warnings[0]


def test_wrong_result_count_is_an_error() -> None:
    class Short(DummyRecognizer):
        def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
            return super().analyze(batch)[:-1]

    with pytest.raises(RuntimeError, match="returned 1 results for 2 inputs"):
        list(iter_results(["happy", "sad"], model=Short()))


def test_labels_maps_scores_labels_and_cues_keeping_vad() -> None:
    native = affectlens.analyze("I am happy but scared", model=DUMMY)
    mapped = affectlens.analyze("I am happy but scared", model=DUMMY, labels="sentiment")
    assert isinstance(native, EmotionResult) and isinstance(mapped, EmotionResult)
    seg, orig = mapped.segments[0], native.segments[0]
    assert seg.label_set == "sentiment" and set(seg.scores) == {"positive", "negative", "neutral"}
    assert seg.vad == orig.vad and seg.confidence == orig.confidence
    assert seg.extras["mapped_from"] == "ekman"
    assert {c.label for c in seg.cues} <= set(seg.scores)
    assert map_result(mapped, "sentiment") is mapped
    assert map_result(native, None) is native


def test_unknown_label_set_fails_up_front() -> None:
    from affectlens.taxonomy import UnknownLabelSet

    with pytest.raises(UnknownLabelSet):
        start_analysis("text", model=DUMMY, labels="nope")


def test_default_model_fallback_warns(isolated_registry: dict[str, Any]) -> None:
    for name, spec in list(isolated_registry.items()):
        if spec.modality == Modality.TEXT and name != DUMMY:  # the dummy is the one left to fall back on
            del isolated_registry[name]
    with pytest.warns(AffectlensWarning, match="no default text model is registered"):
        pool = RecognizerPool()
        assert pool.get(Modality.TEXT).name == DUMMY


def test_no_recognizer_for_a_modality(isolated_registry: dict[str, Any]) -> None:
    for name, spec in list(isolated_registry.items()):
        if spec.modality == Modality.SPEECH:
            del isolated_registry[name]
    with pytest.raises(processing.NoRecognizer, match="no recognizer for speech"):
        RecognizerPool().get(Modality.SPEECH)


def test_batch_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        start_analysis("happy", model=DUMMY, batch_size=0)


def test_no_warnings_for_a_clean_run() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(iter_results(["happy"], model=DUMMY))


class _MissingWeights:
    name = "speech.missing.v1"

    def build(self) -> Any:
        raise FileNotFoundError("speech model file missing: config.json")


def test_a_modality_without_a_usable_model_fails_alone_in_a_mixed_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recognizer_pool, "_default_spec", lambda modality: _MissingWeights())
    pool = processing.RecognizerPool(DummyRecognizer())
    with pytest.warns(AffectlensWarning, match="speech files are reported as errors"):
        loaded = pool.load_available([Modality.TEXT, Modality.SPEECH])
    assert [r.modality for r in loaded] == [Modality.TEXT]
    items = [processing.WorkItem("file a.txt", Modality.TEXT, TextItem("so happy")),
             processing.WorkItem("file b.wav", Modality.SPEECH, object())]
    results = list(processing.analyze_items(items, pool))
    assert not results[0].is_empty
    assert results[1].is_empty and "speech model file missing" in results[1].warnings[0]


def test_a_single_modality_without_a_usable_model_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recognizer_pool, "_default_spec", lambda modality: _MissingWeights())
    with pytest.raises(processing.NoRecognizer, match="cannot be used"):
        processing.RecognizerPool().load_available([Modality.SPEECH])
