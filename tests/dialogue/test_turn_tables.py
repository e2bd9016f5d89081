"""Turn tables read as dialogues (shared by the conversation and support models' ``analyze``)."""

from __future__ import annotations

from affectlens.dialogue.turn_tables import EMPTY_TURN_WARNING, item_results, turn_table_dialogues
from affectlens.inputs import TextItem
from affectlens.types import EmotionResult, Modality, Provenance, Segment


def _items() -> list[TextItem]:
    return [TextItem("hi", "r0", "f.csv", "Anna", 10, dialogue_id="d1"),
            TextItem("", "r1", "f.csv", "Ben", 11, dialogue_id="d1"),
            TextItem("alone", "r2", "f.csv", None, 12),
            TextItem("again", "r3", "f.csv", "Anna", 13, dialogue_id="d1")]  # not consecutive: a new dialogue


def test_runs_of_one_dialogue_id_form_a_dialogue() -> None:
    grouped = turn_table_dialogues(_items())
    assert [group for group, _ in grouped] == [[0, 1], [2], [3]]
    first, alone, again = (dialogue for _, dialogue in grouped)
    assert first.dialogue_id == "d1" and [(t.index, t.speaker, t.record_id) for t in first.turns] == \
        [(0, "Anna", "r0"), (1, "Ben", "r1")]
    assert alone.dialogue_id == "item 2" and alone.turns[0].speaker == "?"
    assert again.dialogue_id == "d1" and first.source == "f.csv"


def test_item_results_give_each_item_its_turn_or_say_it_was_empty() -> None:
    items = _items()
    seg = Segment(Modality.TEXT, "meld", {"joy": 1.0}, ("joy",), None, 1.0, Provenance("m", "v1"), turn=0)
    first, second = item_results(items, [0, 1], EmotionResult((seg,), "f.csv"), ("a warning",))
    assert (first.segments[0].turn, first.record_id, first.warnings) == (10, "r0", ("a warning",))
    assert first.segments[0].record_id == "r0"
    assert (second.segments, second.warnings, second.record_id) == ((), (EMPTY_TURN_WARNING,), "r1")
