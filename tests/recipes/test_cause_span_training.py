from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from affectlens.dialogue.cause_spans import DEFAULT_MODEL_DIR, N_FLAGS, EncodedTurn, SpanModel
from affectlens_recipes.cause_spans import (
    build_pairs,
    exact_match,
    first_clause,
    first_sentence,
    gold_words,
    last_sentence,
    normalize_answer,
    paired_bootstrap,
    reccon_f1,
    span_scores,
    token_f1,
    whole_turn,
)


def _turn(text: str, dim: int = 3) -> EncodedTurn:
    """Words split the RECCON way (spaces, punctuation on its own)."""
    units = tuple(m.span() for m in re.finditer(r"[^\s.,!?;:]+|[.,!?;:]", text))
    return EncodedTurn(text, units, np.zeros((len(units), dim), np.float32))


def test_squad_normalisation_and_scores() -> None:
    assert normalize_answer("The  movie , tomorrow ?") == "movie tomorrow"
    assert exact_match("see a movie tomorrow ?", "See the movie tomorrow") == 1.0
    assert token_f1("see a movie", "see a movie tomorrow ?") == pytest.approx(2 * 1.0 * (2 / 3) / (1 + 2 / 3))
    assert token_f1("nothing here", "see a movie") == 0.0
    assert token_f1("", "") == 1.0 and token_f1("", "x") == 0.0 and token_f1("?", "x") == 0.0


def test_reccon_scoring_credits_only_contained_spans() -> None:
    assert reccon_f1("it'll be fun .", " it'll be fun . ") == 1.0
    assert reccon_f1("be fun", "it'll be fun .") == pytest.approx(token_f1("be fun", "it'll be fun ."))
    assert reccon_f1("fun . Ok", "it'll be fun .") == 0.0  # overlapping, but neither contains the other
    assert token_f1("fun . Ok", "it'll be fun .") > 0.0
    assert reccon_f1("", "x") == 0.0


def test_span_scores_take_the_best_gold_of_a_pair() -> None:
    scores = span_scores(["got the job", "nothing"], [("got the job", "Lisbon"), ("so happy",)])
    assert scores == {"exact_match": 0.5, "f1": 0.5, "reccon_f1": 0.5}
    assert span_scores(["Lisbon"], [("got the job", "Lisbon")])["exact_match"] == 1.0


def test_paired_bootstrap_resamples_dialogues() -> None:
    golds = [("a b",), ("c",), ("d",), ("e f",)]
    same = paired_bootstrap(["a b", "c", "x", "e"], ["a b", "c", "x", "e"], golds, [0, 0, 1, 1], n=200)
    assert same == {"exact_match": [0.0, 0.0, 0.0], "f1": [0.0, 0.0, 0.0]}
    better = paired_bootstrap(["a b", "c", "d", "e f"], ["a", "x", "d", "e"], golds, [0, 0, 1, 1], n=200)
    mean, low, high = better["exact_match"]
    assert mean == 0.75 and 0.0 <= low <= mean <= high <= 1.0


def test_baselines() -> None:
    turn = _turn("Oh , really ? I got the job , in Lisbon . I'm so happy !")
    assert whole_turn(turn) == turn.text
    assert first_sentence(turn) == "Oh , really ?"
    assert first_clause(turn) == "Oh ,"
    assert last_sentence(turn) == "I'm so happy !"
    plain = _turn("no punctuation at all")
    assert first_sentence(plain) == first_clause(plain) == last_sentence(plain) == plain.text
    assert first_clause(_turn(", odd start , then")) == ", odd start ,"
    assert last_sentence(_turn("One . Two . ! ")) == "Two . !"
    empty = _turn("   ")
    assert first_sentence(empty) == first_clause(empty) == last_sentence(empty) == "" == whole_turn(empty)


def test_gold_words_cover_the_gold_span() -> None:
    turn = _turn("Hey , you wanna see a movie tomorrow ?")
    assert gold_words(turn, "see a movie tomorrow ?") == (4, 8)
    assert gold_words(turn, " you wanna ") == (2, 3)
    assert gold_words(turn, "ovie") == (6, 6)  # inside a word: that word
    assert gold_words(turn, "cinema") is None and gold_words(turn, "  ") is None


def test_pairs_group_gold_spans_and_skip_outside_causes() -> None:
    dialogue = [
        {"turn": 1, "speaker": "A", "utterance": "Hey , you wanna see a movie ?", "emotion": "happiness",
         "expanded emotion cause evidence": [1, "b"], "expanded emotion cause span": ["see a movie ?", "x"]},
        {"turn": 2, "speaker": "B", "utterance": "Sure .", "emotion": "neutral"},
        {"turn": 3, "speaker": "A", "utterance": "Great , see you !", "emotion": "happiness",
         "expanded emotion cause evidence": [1, 1, 2, 3],
         "expanded emotion cause span": ["see a movie ?", "Hey", "Sure .", "see you !"]},
    ]
    pairs = build_pairs([dialogue, dialogue[:1]])
    assert [(p.target, p.cause, p.distance, p.same_speaker) for p in pairs] == [
        (0, 0, 0, True), (2, 0, 2, True), (2, 1, 1, False), (2, 2, 0, True), (3, 3, 0, True)]
    assert pairs[1].golds == ("see a movie ?", "Hey")
    assert [p.dialogue for p in pairs] == [0, 0, 0, 0, 1]
    assert {p.emotion for p in pairs} == {"happiness"}


def test_numpy_inference_matches_the_torch_head() -> None:
    torch = pytest.importorskip("torch")
    from affectlens.dialogue.cause_spans import word_flags
    from affectlens_recipes.cause_spans import _batch, export, make_net

    torch.manual_seed(0)
    word_dim, context_dim = 5, 4
    net = make_net(word_dim + N_FLAGS, context_dim, 6, 3, 0.0)
    rng = np.random.default_rng(0)
    turns = [_turn("I got the job , in Lisbon !", word_dim), _turn("Yes", word_dim)]
    turns = [EncodedTurn(t.text, t.units, rng.standard_normal((len(t), word_dim)).astype(np.float32)) for t in turns]
    mean, scale = rng.standard_normal(word_dim + N_FLAGS), rng.uniform(0.5, 2, word_dim + N_FLAGS)
    context = rng.standard_normal((2, context_dim)).astype(np.float32)
    model = SpanModel(export(net, mean, scale, np.zeros(context_dim), np.ones(context_dim)), 8)
    rows = [((np.concatenate([t.states, word_flags(t.text, t.units)], 1) - mean) / scale).astype(np.float32)
            for t in turns]
    net.eval()
    with torch.no_grad():
        expected = net(*_batch(rows, context)).numpy()
    for k, turn in enumerate(turns):
        start, end = model.scores(turn, context[k])
        np.testing.assert_allclose(start, expected[k, : len(turn), 0], atol=1e-4)
        np.testing.assert_allclose(end, expected[k, : len(turn), 1], atol=1e-4)


def _reccon() -> Path:
    from affectlens_recipes.cause_reccon import data_folder

    folder = data_folder(None)
    if not (folder / "dailydialog_valid.json").is_file():
        pytest.skip("RECCON not in ../shared/datasets")
    return folder


@pytest.mark.data
def test_every_reccon_gold_span_is_found_in_its_cause_turn() -> None:
    from affectlens_recipes.cause_reccon import load_split

    dialogues = load_split(_reccon(), "valid")
    texts = [u["utterance"] for d in dialogues for u in d]
    pairs = build_pairs(dialogues)
    assert len(pairs) == 328
    assert all(g in texts[p.cause] for p in pairs for g in p.golds)


@pytest.mark.slow
@pytest.mark.data
def test_shipped_model_reproduces_its_valid_figures() -> None:
    """The shipped weights, re-run on RECCON valid, give the F1 in its metrics.json."""
    if not (DEFAULT_MODEL_DIR / "metrics.json").is_file():
        pytest.skip("no shipped cause span model")
    from affectlens.dialogue.cause_spans import encode_turns
    from affectlens.dialogue.context_model import TURN_ENCODER_FILE, TURN_ENCODER_SESSION_CONFIG
    from affectlens.recognizers.text_onnx import TextOnnxRecognizer
    from affectlens_recipes.cause_reccon import load_split
    from affectlens_recipes.cause_spans import contexts, evaluate

    dialogues = load_split(_reccon(), "valid")
    texts = [u["utterance"] for d in dialogues for u in d]
    encoder = TextOnnxRecognizer(threads=1, session_config=TURN_ENCODER_SESSION_CONFIG, model_file=TURN_ENCODER_FILE)
    features, _ = encoder.turn_features(texts)
    turns = encode_turns(encoder, texts)
    pairs = build_pairs(dialogues)
    report = evaluate(SpanModel.load(DEFAULT_MODEL_DIR), [turns[p.cause] for p in pairs], contexts(pairs, features),
                      [p.golds for p in pairs], pairs)
    shipped = json.loads((DEFAULT_MODEL_DIR / "metrics.json").read_text())["valid"]["all"]
    assert report["all"]["model"]["f1"] == pytest.approx(shipped["model"]["f1"], abs=2e-3)
    assert report["all"]["whole_cause_turn"] == shipped["whole_cause_turn"]
