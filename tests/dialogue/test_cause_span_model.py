from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from affectlens.dialogue import cause_spans
from affectlens.dialogue.cause_spans import (
    N_FLAGS,
    PARAMETERS,
    CauseSpan,
    EncodedTurn,
    SpanModel,
    best_span,
    encode_turns,
    span_context,
    span_of,
    word_flags,
    word_units,
)
from affectlens.dialogue.causes import CAUSE_EMOTIONS, MAX_DISTANCE, CauseModel
from affectlens.dialogue.context_model import ContextualErc
from affectlens.dialogue.io import read_dialogues
from affectlens.dialogue.types import Dialogue, Turn
from affectlens.models import sha256_file
from affectlens.recognizers.text_onnx import ModelFilesMissing, ModelIntegrityError, TextOnnxRecognizer
from affectlens.testing import make_tiny_erc_model, make_tiny_text_model

EXAMPLE = Path(cause_spans.__file__).resolve().parent.parent / "examples" / "dialogue.csv"
TINY_HIDDEN = 28  # the tiny text model's hidden size (= its label count)


def random_span_model(word_dim: int, context_dim: int, *, projection: int = 8, hidden: int = 4,
                      max_words: int = 5, seed: int = 0) -> SpanModel:
    rng = np.random.default_rng(seed)
    in_dim = word_dim + N_FLAGS
    shapes = {"word_mean": (in_dim,), "word_scale": (in_dim,), "context_mean": (context_dim,),
              "context_scale": (context_dim,), "w_word": (in_dim, projection), "w_context": (context_dim, projection),
              "b_in": (projection,), "w_out": (2 * hidden + projection, 2), "b_out": (2,)}
    for side in ("fw", "bw"):
        shapes.update({f"{side}_w_ih": (3 * hidden, projection), f"{side}_w_hh": (3 * hidden, hidden),
                       f"{side}_b_ih": (3 * hidden,), f"{side}_b_hh": (3 * hidden,)})
    params = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes.items()}
    params["word_mean"][:] = 0.0
    params["context_mean"][:] = 0.0
    params["word_scale"][:] = 1.0
    params["context_scale"][:] = 1.0
    assert set(params) == set(PARAMETERS)
    return SpanModel(params, max_words, "cause.span-tiny.v1")


def write_span_model(folder: Path, model: SpanModel) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "model.npz", **model.params)
    config = {"name": model.name, "max_words": model.max_words,
              "sha256": {"model.npz": sha256_file(folder / "model.npz")}}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="module")
def tiny_text(tmp_path_factory: pytest.TempPathFactory) -> TextOnnxRecognizer:
    return TextOnnxRecognizer(make_tiny_text_model(tmp_path_factory.mktemp("text") / "text"), name="text.tiny.v1")


@pytest.fixture(scope="module")
def tiny_spans() -> SpanModel:
    return random_span_model(2 * TINY_HIDDEN, 3 * TINY_HIDDEN + len(CAUSE_EMOTIONS) + MAX_DISTANCE + 2)


def _context(model: SpanModel, emotion: str = "anger") -> np.ndarray:
    features = np.ones(model.context_dim - len(CAUSE_EMOTIONS) - MAX_DISTANCE - 2, np.float32)
    return span_context(features, emotion, 1, False)


# -- words and decoding ----------------------------------------------------------------------------


def _units(tiny_text: TextOnnxRecognizer, text: str) -> list[str]:
    [turn] = encode_turns(tiny_text, [text])
    return [text[s:e] for s, e in turn.units]


def test_words_keep_contractions_and_split_punctuation(tiny_text: TextOnnxRecognizer) -> None:
    assert _units(tiny_text, "I'm happy, it'll be fun.") == ["I'm", "happy", ",", "it'll", "be", "fun", "."]
    assert _units(tiny_text, "well-known...yes?!") == ["well-known", ".", ".", ".", "yes", "?", "!"]
    assert _units(tiny_text, "  Lisbon!  ") == ["Lisbon", "!"]


def test_word_units_skip_empty_offsets() -> None:
    assert word_units("ab c", [(0, 1), (1, 2), (2, 2), (3, 4)], [0, 0, 1, 2]) == [[0, 1], [3]]


def test_best_span_respects_order_and_length() -> None:
    start = np.array([-1.0, 5.0, 0.0, 0.0])
    end = np.array([9.0, 0.0, 0.0, 4.0])
    assert best_span(start, end, 10)[:2] == (1, 3)  # start 1 + end 0 would be higher, but reversed
    assert best_span(start, end, 2)[:2] == (0, 0)  # words 1..3 are too long a span
    i, j, score = best_span(start, end, 1)
    assert i == j and score == pytest.approx(max(start + end))
    assert best_span(np.zeros(1), np.zeros(1), 0)[:2] == (0, 0)
    with pytest.raises(ValueError):
        best_span(np.zeros(0), np.zeros(0), 3)


@given(st.lists(st.floats(-5, 5), min_size=1, max_size=12), st.integers(1, 15), st.randoms())
def test_best_span_is_the_best_allowed_pair(start: list[float], max_words: int, rnd: object) -> None:
    s = np.asarray(start)
    e = s[::-1].copy()
    i, j, score = best_span(s, e, max_words)
    assert 0 <= i <= j < len(s) and j - i < max_words
    allowed = [s[a] + e[b] for a in range(len(s)) for b in range(a, min(len(s), a + max_words))]
    assert score == pytest.approx(max(allowed))


def test_flags_mark_sentence_boundaries() -> None:
    text = "Oh ! I see ."
    units = [(0, 2), (3, 4), (5, 6), (7, 10), (11, 12)]
    flags = word_flags(text, units)
    assert flags.shape == (5, N_FLAGS)
    assert flags[:, 4].tolist() == [0, 1, 0, 0, 1]  # a sentence end
    assert flags[:, 5].tolist() == [0, 0, 1, 0, 0]  # right after one
    assert word_flags("", []).shape == (0, N_FLAGS)


def test_span_of_gives_character_offsets() -> None:
    turn = EncodedTurn("I got the job !", ((0, 1), (2, 5), (6, 9), (10, 13), (14, 15)), np.zeros((5, 1)))
    span = span_of(turn, 1, 3, 0.5)
    assert span == CauseSpan("got the job", 2, 13, 0.5)
    assert turn.text[span.start:span.end] == span.text
    assert span.to_dict() == {"text": "got the job", "start": 2, "end": 13, "score": 0.5}


TEXTS = st.lists(st.sampled_from([*"ab ,.!?'-\u00e9\U0001f600\u200b\t\n", "happy", "sad ", " angry "]),
                 max_size=25).map("".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXTS)
def test_spans_are_always_substrings(tiny_text: TextOnnxRecognizer, tiny_spans: SpanModel, text: str) -> None:
    [turn] = encode_turns(tiny_text, [text])
    span = tiny_spans.predict(turn, _context(tiny_spans))
    if not text.strip() or span is None:
        assert span is None and len(turn) == 0
        return
    assert 0 <= span.start < span.end <= len(text)
    assert text[span.start:span.end] == span.text and span.text == span.text.strip()
    first = next(k for k, u in enumerate(turn.units) if u[0] == span.start)
    last = next(k for k, u in enumerate(turn.units) if u[1] == span.end)
    assert first <= last < first + tiny_spans.max_words


@pytest.mark.parametrize("text", ["", "   ", "\u200b", "\U0001f600", "\U0001f600\U0001f600 \U0001f622", "\n\t"])
def test_odd_turns_do_not_crash(tiny_text: TextOnnxRecognizer, tiny_spans: SpanModel, text: str) -> None:
    [turn] = encode_turns(tiny_text, [text])
    span = tiny_spans.predict(turn, _context(tiny_spans))
    if span is not None:
        assert text[span.start:span.end] == span.text


def test_long_turns_are_read_up_to_max_pieces(tiny_text: TextOnnxRecognizer) -> None:
    [turn] = encode_turns(tiny_text, ["happy " * 50], max_pieces=20)
    assert len(turn) == 20 and turn.states.shape == (20, 2 * TINY_HIDDEN)


def test_wrong_feature_sizes_are_refused(tiny_spans: SpanModel) -> None:
    turn = EncodedTurn("a b", ((0, 1), (2, 3)), np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="expects word features"):
        tiny_spans.predict(turn, _context(tiny_spans))


# -- the model folder ------------------------------------------------------------------------------


def test_load_verifies_the_pinned_hash(tmp_path: Path, tiny_spans: SpanModel) -> None:
    folder = write_span_model(tmp_path / "spans", tiny_spans)
    loaded = SpanModel.load(folder)
    assert loaded.max_words == tiny_spans.max_words and loaded.word_dim == tiny_spans.word_dim
    assert all(np.array_equal(loaded.params[p], tiny_spans.params[p]) for p in PARAMETERS)
    config = json.loads((folder / "config.json").read_text())
    config["sha256"]["model.npz"] = "0" * 64
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelIntegrityError):
        SpanModel.load(folder)
    assert SpanModel.load(folder, verify=False).max_words == tiny_spans.max_words
    with pytest.raises(ModelFilesMissing):
        SpanModel.load(tmp_path / "nowhere")
    (folder / "model.npz").unlink()
    with pytest.raises(ModelFilesMissing):
        SpanModel.load(folder)


def test_an_incomplete_weights_file_is_refused(tmp_path: Path, tiny_spans: SpanModel) -> None:
    partial = SpanModel({k: v for k, v in tiny_spans.params.items() if k != "w_out"}, 3)
    folder = tmp_path / "spans"
    folder.mkdir()
    np.savez(folder / "model.npz", **partial.params)
    (folder / "config.json").write_text(json.dumps({"max_words": 3, "sha256": {
        "model.npz": sha256_file(folder / "model.npz")}}))
    with pytest.raises(ModelIntegrityError, match="w_out"):
        SpanModel.load(folder)


def test_shipped_model_folder_is_complete() -> None:
    folder = cause_spans.DEFAULT_MODEL_DIR
    if not folder.is_dir():
        pytest.skip("no shipped cause span model")
    model = SpanModel.load(folder)
    text_config = json.loads((folder.parent / "text-minilm-goemotions-v1" / "config.json").read_text())
    assert model.text_model_sha256 == text_config["sha256"]["model.onnx"]
    assert (folder / "MODEL_CARD.md").is_file() and (folder / "metrics.json").is_file()
    assert (folder / "model.npz").stat().st_size < 5_000_000


# -- in the conversation model ---------------------------------------------------------------------


def _prefers_turn_before(n_features: int) -> CauseModel:
    n = 3 * n_features + MAX_DISTANCE + 1 + len(CAUSE_EMOTIONS) + 3
    weights = np.zeros(n, np.float32)
    weights[3 * n_features + 1] = 4.0
    return CauseModel(np.zeros(n, np.float32), np.ones(n, np.float32), weights, -2.0, 0.5, "cause.tiny.v1")


def test_cause_cues_quote_their_span(tmp_path: Path, tiny_text: TextOnnxRecognizer, tiny_spans: SpanModel) -> None:
    erc = ContextualErc(make_tiny_erc_model(tmp_path / "erc"), text_model=tiny_text,
                        cause_model=_prefers_turn_before(3 * TINY_HIDDEN), span_model=tiny_spans)
    turns = (("Bob", "I am angry, and sad. So sad!"), ("Ann", "I am so happy"), ("Ann", "\U0001f600"))
    dialogue = Dialogue("d1", tuple(Turn(i, s, t) for i, (s, t) in enumerate(turns)))
    [result] = erc.analyze_dialogues([dialogue])
    n_spans = 0
    for seg in result.segments:
        for cause, cue in zip(seg.extras.get("causes", []), [c for c in seg.cues if c.kind == "cause"], strict=True):
            span = cause["span"]
            text = turns[cause["turn"]][1]
            assert text[span["start"]:span["end"]] == span["text"] and span["text"].strip()
            assert span["text"][:20] in cue.phrase and cue.span is None  # Cue.span stays for the turn's own text
            n_spans += 1
    assert n_spans >= 2
    plain = ContextualErc(tmp_path / "erc", text_model=tiny_text, cause_model=_prefers_turn_before(3 * TINY_HIDDEN),
                          span_model=None)
    [without] = plain.analyze_dialogues([dialogue])
    causes = [c for seg in without.segments for c in seg.extras.get("causes", [])]
    assert causes and all("span" not in c for c in causes)


def test_the_shipped_span_model_is_not_used_with_another_encoder(tmp_path: Path,
                                                                 tiny_text: TextOnnxRecognizer) -> None:
    if not cause_spans.DEFAULT_MODEL_DIR.is_dir():
        pytest.skip("no shipped cause span model")
    erc = ContextualErc(make_tiny_erc_model(tmp_path / "erc"), text_model=tiny_text,
                        cause_model=_prefers_turn_before(3 * TINY_HIDDEN))
    erc.load()
    assert erc._spans is None and erc._causes is not None


def _shipped_models_present() -> bool:
    from affectlens.dialogue.causes import DEFAULT_MODEL_DIR as CAUSE_DIR
    from affectlens.dialogue.context_model import DEFAULT_MODEL_DIR as ERC_DIR

    return (ERC_DIR / "config.json").is_file() and (CAUSE_DIR / "config.json").is_file()


def test_shipped_dialogue_example_gets_spans() -> None:
    if not _shipped_models_present() or not cause_spans.DEFAULT_MODEL_DIR.is_dir():
        pytest.skip("needs the shipped conversation, cause and span models")
    dialogues = read_dialogues(EXAMPLE)
    results = ContextualErc(threads=1).analyze_dialogues(dialogues)
    texts = {(d.dialogue_id, t.index): t.text for d in dialogues for t in d.turns}
    n_spans = 0
    for result in results:
        for seg in result.segments:
            for cause in seg.extras.get("causes", []):
                span = cause["span"]
                text = texts[(result.record_id, cause["turn"])]
                assert 0 <= span["start"] < span["end"] <= len(text)
                assert text[span["start"]:span["end"]] == span["text"]
                n_spans += 1
    assert n_spans >= 8


def test_causes_work_without_the_span_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    if not _shipped_models_present():
        pytest.skip("needs the shipped conversation and cause models")
    monkeypatch.setattr(cause_spans, "DEFAULT_MODEL_DIR", tmp_path / "absent")
    [result] = ContextualErc(threads=1).analyze_dialogues(read_dialogues(EXAMPLE)[:1])
    causes = [c for seg in result.segments for c in seg.extras.get("causes", [])]
    assert causes and all("span" not in c for c in causes)
