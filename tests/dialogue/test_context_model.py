from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from affectlens.bench.datasets import MELD_LABELS
from affectlens.bench.runner import _batches
from affectlens.dialogue.causes import CAUSE_EMOTIONS, MAX_DISTANCE, CauseModel, pair_features
from affectlens.dialogue.context_model import ContextualErc, dialogue_inputs
from affectlens.dialogue.types import Dialogue, Turn
from affectlens.inputs import TextItem
from affectlens.recognizers.text_onnx import ModelFilesMissing, ModelIntegrityError, TextOnnxRecognizer
from affectlens.testing import check_recognizer, make_tiny_erc_model, make_tiny_text_model


@pytest.fixture(scope="module")
def erc(tmp_path_factory: pytest.TempPathFactory) -> ContextualErc:
    root = tmp_path_factory.mktemp("erc")
    text = TextOnnxRecognizer(make_tiny_text_model(root / "text"), name="text.tiny.v1")
    return ContextualErc(make_tiny_erc_model(root / "erc"), name="dialogue.tiny.v1", text_model=text,
                         cause_model=None)


def _dialogue(*turns: tuple[str, str], dialogue_id: str = "d1") -> Dialogue:
    return Dialogue(dialogue_id, tuple(Turn(i, s, t) for i, (s, t) in enumerate(turns)), source="chat.csv")


def test_every_non_empty_turn_gets_a_calibrated_meld_segment(erc: ContextualErc) -> None:
    [result] = erc.analyze_dialogues([_dialogue(("Ann", "I am so happy"), ("Bob", "   "), ("Bob", "I am angry"))])
    assert [s.turn for s in result.segments] == [0, 2]
    assert [s.speaker for s in result.segments] == ["Ann", "Bob"]
    for seg in result.segments:
        assert seg.label_set == "meld" and set(seg.scores) == set(MELD_LABELS)
        assert sum(seg.scores.values()) == pytest.approx(1.0, abs=1e-5)
        assert seg.confidence == pytest.approx(max(seg.scores.values()))
        assert set(seg.extras["scores_without_context"]) == set(MELD_LABELS)
    assert result.segments[0].labels == ("joy",)
    assert result.segments[1].labels == ("anger",)
    assert result.record_id == "d1"


def test_a_dialogue_that_is_not_english_is_read_with_a_warning(erc: ContextualErc) -> None:
    spanish, english = erc.analyze_dialogues([
        _dialogue(("Ana", "Estoy muy triste porque mi perro se murió"), ("Luis", "Lo siento mucho, de verdad"),
                  dialogue_id="es"),
        _dialogue(("Ann", "I am so happy"), ("Bob", "That is wonderful news"), dialogue_id="en")])
    assert spanish.segments and spanish.warnings[-1].startswith("the dialogue looks Spanish, by its words")
    assert english.warnings == ()


def test_context_changes_a_turns_reading_but_not_its_reading_alone(erc: ContextualErc) -> None:
    target = ("Ann", "I am so happy")
    calm, heated = erc.analyze_dialogues([
        _dialogue(target, dialogue_id="calm"),
        _dialogue(("Bob", "I am angry"), ("Bob", "angry furious"), target, dialogue_id="heated")])
    alone_calm = calm.segments[0].extras["scores_without_context"]
    alone_heated = heated.segments[-1].extras["scores_without_context"]
    assert alone_calm == alone_heated
    assert calm.segments[0].scores["anger"] < heated.segments[-1].scores["anger"]
    context_cues = [c for c in heated.segments[-1].cues if c.kind == "context"]
    assert context_cues and "dialogue context" in context_cues[0].phrase


def test_a_large_batch_is_read_in_whole_dialogues_with_the_same_results(
        erc: ContextualErc, monkeypatch: pytest.MonkeyPatch) -> None:
    import affectlens.dialogue.context_model as context_model

    dialogues = [_dialogue(("Ann", "I am so happy"), ("Bob", "I am angry"), ("Ann", "   "), dialogue_id=f"d{k}")
                 for k in range(5)] + [_dialogue(("Ann", " "), dialogue_id="empty")]
    whole = erc.analyze_dialogues(dialogues)
    monkeypatch.setattr(context_model, "TURNS_PER_PASS", 4)  # two dialogues per pass
    chunked = erc.analyze_dialogues(dialogues)
    assert [r.record_id for r in chunked] == [d.dialogue_id for d in dialogues]
    assert [[s.scores for s in r.segments] for r in chunked] == [[s.scores for s in r.segments] for r in whole]
    assert chunked[-1].segments == () and "no non-empty turn" in chunked[-1].warnings[-1]


def test_turn_tables_are_read_as_dialogues_by_dialogue_id(erc: ContextualErc) -> None:
    items = [TextItem("I am angry", speaker="Bob", turn=0, dialogue_id="x", record_id="x_0"),
             TextItem("I am so happy", speaker="Ann", turn=1, dialogue_id="x", record_id="x_1"),
             TextItem("I am so happy", speaker="Ann", turn=0, dialogue_id="y", record_id="y_0"),
             TextItem(""),
             "I am so happy"]
    results = erc.analyze(items)
    assert len(results) == 5
    [as_dialogue] = erc.analyze_dialogues([_dialogue(("Bob", "I am angry"), ("Ann", "I am so happy"))])
    assert results[1].segments[0].scores == pytest.approx(as_dialogue.segments[1].scores)
    assert results[1].record_id == "x_1" and results[1].segments[0].turn == 1
    assert results[2].segments[0].scores != pytest.approx(results[1].segments[0].scores)
    assert results[3].is_empty and results[3].warnings
    assert not results[4].is_empty


def test_passes_the_common_recognizer_check(erc: ContextualErc) -> None:
    report = check_recognizer(erc, factory=lambda: ContextualErc(erc.model_dir, name=erc.name,
                                                                 text_model=erc._text_model,
                                                                 cause_model=None))
    assert not report.failed, report


def test_speaker_flag_marks_a_speaker_who_goes_on() -> None:
    x = dialogue_inputs(np.zeros((3, 2), np.float32), ["a", "a", "b"])
    assert x.shape == (3, 3) and x[:, -1].tolist() == [0.0, 1.0, 0.0]


def test_benchmark_batches_never_cut_a_dialogue_in_two() -> None:
    items = [TextItem(str(i), dialogue_id=str(i // 3)) for i in range(10)]
    batches = list(_batches(items, 4, whole_dialogues=True))
    assert [len(b) for b in batches] == [6, 4]
    assert [len(b) for b in _batches(items, 4, whole_dialogues=False)] == [4, 4, 2]


def test_a_tampered_or_missing_head_is_refused(tmp_path: Path) -> None:
    folder = make_tiny_erc_model(tmp_path / "erc")
    text = TextOnnxRecognizer(make_tiny_text_model(tmp_path / "text"))
    config = json.loads((folder / "config.json").read_text())
    config["sha256"]["head_context.onnx"] = "0" * 64
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelIntegrityError):
        ContextualErc(folder, text_model=text).load()
    with pytest.raises(ModelFilesMissing):
        ContextualErc(tmp_path / "nowhere", text_model=text).load()


def _tiny_cause_model(n_features: int) -> CauseModel:
    """Prefers the turn right before the target (distance one-hot index 1)."""
    n = 3 * n_features + MAX_DISTANCE + 1 + len(CAUSE_EMOTIONS) + 3
    weights = np.zeros(n, np.float32)
    weights[3 * n_features + 1] = 4.0
    return CauseModel(np.zeros(n, np.float32), np.ones(n, np.float32), weights, -2.0, 0.5, "cause.tiny.v1")


def test_pair_features_cover_every_candidate_up_to_the_target() -> None:
    rows = pair_features(np.ones((4, 2), np.float32), ["a", "b", "a", "b"], 2, "anger")
    assert rows.shape == (3, 3 * 2 + MAX_DISTANCE + 1 + len(CAUSE_EMOTIONS) + 3)
    assert rows[:, 6:6 + MAX_DISTANCE + 1].argmax(1).tolist() == [2, 1, 0]


def test_emotional_turns_name_their_causes(tmp_path: Path) -> None:
    text = TextOnnxRecognizer(make_tiny_text_model(tmp_path / "text"))
    erc = ContextualErc(make_tiny_erc_model(tmp_path / "erc"), text_model=text, cause_model=_tiny_cause_model(3 * 28))
    [result] = erc.analyze_dialogues([_dialogue(("Bob", "I am angry"), ("Ann", "I am so happy"))])
    first, second = result.segments
    assert [c.turn for c in second.cues if c.kind == "cause"] == [0]  # the turn before, as the scorer prefers
    assert second.extras["causes"][0]["turn"] == 0
    cause = next(c for c in second.cues if c.kind == "cause")
    assert "caused by turn 0 (Bob" in cause.phrase and cause.label == second.labels[0]
    assert [c.turn for c in first.cues if c.kind == "cause"] == [0]  # nothing earlier: its likeliest is itself
    assert "this turn itself" in next(c for c in first.cues if c.kind == "cause").phrase
    plain = ContextualErc(tmp_path / "erc", text_model=text, cause_model=None)
    assert not [c for s in plain.analyze_dialogues([_dialogue(("Bob", "I am angry"))])[0].segments
                for c in s.cues if c.kind == "cause"]


def test_the_shipped_heads_read_the_encoder_through_the_path_they_were_trained_on() -> None:
    from affectlens.dialogue.context_model import DEFAULT_MODEL_DIR
    from affectlens.recognizers.text_onnx import DEFAULT_MODEL_DIR as TEXT_DIR

    if not (DEFAULT_MODEL_DIR / "config.json").is_file() or not (TEXT_DIR / "model.onnx").is_file():
        pytest.skip("shipped models not in place")
    config = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text(encoding="utf-8"))
    text_config = json.loads((TEXT_DIR / "config.json").read_text(encoding="utf-8"))
    erc = ContextualErc(threads=1)
    erc.load()
    assert erc._text_model is not None
    options = erc._text_model._session.get_session_options()
    expected = config["encoder"]["onnxruntime_session_config"]
    for key in {**text_config.get("onnxruntime_session_config", {}), **expected}:
        if key in expected:
            assert options.get_session_config_entry(key) == expected[key]
        else:  # the text model's own entry (its float path) must not reach the conversation heads
            with pytest.raises(Exception, match=key.split(".")[-1]):
                options.get_session_config_entry(key)
