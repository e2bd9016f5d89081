"""The support-strategy recognizer: features, care rules, points, cues, and its surfaces.

Most tests run on tiny ONNX heads made here over a fake 4-number text encoder; one test
reads the shipped model folder when it is in place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from affectlens.dialogue.support import DEFAULT_MODEL_DIR, SupportRecognizer, support_lines, supporter_of
from affectlens.dialogue.support_care import CRISIS_PHRASES, SUPPORT_NOTICE, crisis_in, crisis_phrases
from affectlens.dialogue.support_features import N_STRATEGIES, STRATEGIES, observe_inputs, one_hot, suggest_inputs
from affectlens.dialogue.types import Dialogue, Turn
from affectlens.testing.support_model import DIM, FakeText, write_tiny_model


def _dialogue(*turns: tuple[str, str]) -> Dialogue:
    return Dialogue("d1", tuple(Turn(i, speaker, text) for i, (speaker, text) in enumerate(turns)))


# -- care ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "I want to kill myself", "Sometimes I think about suicide.", "I just want to die",
    "I've been cutting myself again", "I don't want to live anymore", "everyone is better off without me",
    "I'm thinking of ending my life", "I have been self-harming", "I took an overdose last year",
])
def test_crisis_phrases_are_flagged(text: str) -> None:
    assert crisis_phrases(text)


@pytest.mark.parametrize("text", [
    "This job is killing me", "I could die of embarrassment", "my phone died", "I cut my hair",
    "I am so tired of everything", "We talked about the suicide squad movie",
])
def test_ordinary_language_is_not_flagged_except_the_listed_words(text: str) -> None:
    # "suicide" is on the list as a word: the list is explicit, not clever (see docs/support.md)
    assert bool(crisis_phrases(text)) == ("suicide" in text)


def test_crisis_list_is_fixed_and_named() -> None:
    names = [name for name, _ in CRISIS_PHRASES]
    assert len(names) == len(set(names)) >= 10
    assert crisis_in(["fine", "I want to kill myself", "suicidal"]) == ["kill myself", "suicide / suicidal"]


# -- features ------------------------------------------------------------------------------------
def _arrays(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, DIM)).astype(np.float32)
    vad = rng.uniform(-1, 1, size=(n, 3)).astype(np.float32)
    is_sup = np.array([i % 2 == 1 for i in range(n)])
    probs = one_hot([STRATEGIES[i % N_STRATEGIES] if is_sup[i] else None for i in range(n)])
    return features, vad, is_sup, probs


def test_suggest_inputs_read_only_the_past() -> None:
    features, vad, is_sup, probs = _arrays(8)
    before = suggest_inputs(features, vad, is_sup, probs, 5)
    features[5:] += 100.0
    vad[5:] = 0.9
    probs[5:] = 1.0
    assert np.array_equal(before, suggest_inputs(features, vad, is_sup, probs, 5))
    assert before.shape == (2 * DIM + 3 * N_STRATEGIES + 10,)
    assert suggest_inputs(features, vad, is_sup, probs, 8).shape == before.shape  # after the last turn
    assert observe_inputs(features, is_sup, 3).shape == (2 * DIM + 2,)


def test_suggest_inputs_at_the_start_are_defined() -> None:
    features, vad, is_sup, probs = _arrays(3)
    x = suggest_inputs(features, vad, is_sup, probs, 0)
    assert np.isfinite(x).all() and x[: 2 * DIM].sum() == 0


def test_supporter_is_named_known_or_second() -> None:
    d = _dialogue(("Ann", "hi"), ("Bob", "hello"))
    assert supporter_of(d, "Ann") == ("Ann", None)
    assert supporter_of(d)[0] == "Bob" and "assumed" in str(supporter_of(d)[1])
    assert supporter_of(_dialogue(("helper", "hi"), ("Ann", "hey")))[0] == "helper"
    assert supporter_of(d, "Zed") == ("Zed", "supporter 'Zed' has not spoken in this dialogue yet")
    assert supporter_of(_dialogue(("Ann", "hi")))[0] is None


# -- the recognizer over tiny heads and a fake encoder ----------------------------------------------
@pytest.fixture()
def tiny_model(tmp_path: Path) -> Path:
    return write_tiny_model(tmp_path)


def _recognizer(folder: Path, **kw: Any) -> SupportRecognizer:
    return SupportRecognizer(folder, text_model=FakeText(), **kw)


def test_points_probabilities_and_cues(tiny_model: Path) -> None:
    dialogue = _dialogue(("sys", "Hello, how are you?"), ("usr", "I feel sad about my job"),
                         ("sys", "That sounds hard!"), ("usr", "yes it is sad"), ("usr", "really"))
    rec = _recognizer(tiny_model)
    points = rec.suggest(dialogue)
    assert [(p.after_turn, p.next_turn) for p in points] == [(None, 0), (1, 2), (4, None)]
    for p in points:
        assert p.probabilities is not None and set(p.probabilities) == set(STRATEGIES)
        assert abs(sum(p.probabilities.values()) - 1) < 1e-3
        assert p.suggested == max(p.probabilities, key=lambda k: p.probabilities[k])  # type: ignore[index]
        assert p.notice == SUPPORT_NOTICE
    last = points[-1]
    assert [t["turn"] for t in last.seeker_trajectory] == [1, 3, 4]
    assert last.seeker_emotion is not None and last.seeker_emotion["turn"] == 4
    assert points[1].actual in STRATEGIES and last.actual is None
    phrases = " ".join(c.phrase for c in points[1].cues)
    assert 'seeker said "sad"' in phrases
    assert any("moved" in c.phrase for c in last.cues)  # sadness (turn 3) -> joy (turn 4): a shift cue


def test_crisis_turn_gets_no_strategy(tiny_model: Path) -> None:
    dialogue = _dialogue(("usr", "I lost my job"), ("sys", "I am sorry"), ("usr", "I want to kill myself"))
    points = _recognizer(tiny_model).suggest(dialogue)
    final = points[-1]
    assert final.probabilities is None and final.suggested is None and final.route_to_person
    assert final.crisis == ("kill myself",)
    record = final.to_dict()
    assert "route to a person" in record["message"] and record["suggested"] is None
    assert points[0].probabilities is not None  # the earlier point, before the crisis turn, still has one


def test_result_attaches_points_and_strategies(tiny_model: Path) -> None:
    dialogue = _dialogue(("usr", "I am sad"), ("sys", "Why?"), ("usr", ""), ("usr", "work"))
    (result,) = _recognizer(tiny_model).analyze_dialogues([dialogue])
    assert [s.turn for s in result.segments] == [0, 1, 3]  # the empty turn has no segment
    by_turn = {s.turn: s for s in result.segments}
    assert by_turn[0].extras["support"]["next_turn"] == 1
    assert by_turn[1].extras["strategy"] in STRATEGIES
    assert by_turn[3].extras["support"]["next_turn"] is None
    assert any(c.kind == "support" for c in by_turn[0].cues)
    assert json.loads(result.to_json())  # JSON-clean
    lines = support_lines(result)
    assert len(lines) == 2 and "suggest" in lines[0]


def test_supporter_who_has_not_spoken_gets_one_point(tiny_model: Path) -> None:
    (result,) = _recognizer(tiny_model, supporter="nobody").analyze_dialogues([_dialogue(("a", "x"), ("b", "y"))])
    assert [("support" in s.extras) for s in result.segments] == [False, True]
    assert any("has not spoken" in w for w in result.warnings)


def test_one_speaker_means_no_points(tiny_model: Path) -> None:
    (result,) = _recognizer(tiny_model).analyze_dialogues([_dialogue(("a", "x"), ("a", "y"))])
    assert len(result.segments) == 2 and not any("support" in s.extras for s in result.segments)
    assert any("one speaker" in w for w in result.warnings)


def test_bad_hash_is_refused(tiny_model: Path) -> None:
    from affectlens.recognizers.text_onnx import ModelIntegrityError

    (tiny_model / "head_suggest.onnx").write_bytes(b"broken")
    with pytest.raises(ModelIntegrityError):
        _recognizer(tiny_model).load()


@pytest.mark.skipif(not (DEFAULT_MODEL_DIR / "config.json").is_file(), reason="support model not in place")
def test_shipped_model_reads_a_conversation() -> None:
    rec = SupportRecognizer()
    dialogue = _dialogue(("seeker", "I lost my job last week and I feel hopeless."),
                         ("supporter", "I'm so sorry to hear that. How are you coping?"),
                         ("seeker", "Not well, I can't sleep and I worry about money."))
    points = rec.suggest(dialogue)
    assert points[-1].probabilities is not None and points[-1].cues
    observed = rec.read_strategies(["Have you thought about talking to a career counsellor?"],
                                   ["I don't know what to do next."])
    assert max(observed[0], key=lambda k: observed[0][k]) in STRATEGIES
