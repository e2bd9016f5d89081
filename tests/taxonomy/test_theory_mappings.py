"""Mappings derived from each target's theory: row kinds, Plutchik's dyads, EmpatheticDialogues."""

from __future__ import annotations

import pytest

from affectlens.taxonomy import convert_scores, get_label_set, label_set_names, mapping
from affectlens.taxonomy._data import load_json
from affectlens.taxonomy.mappings import references

TABLES = load_json("mappings.json")["tables"]


@pytest.mark.parametrize("table", TABLES, ids=lambda t: f"{t['from']}->{t['to']}")
def test_table_rows_are_well_formed(table: dict) -> None:
    for label, row in table["rows"].items():
        weights = sorted(row["to"].values())
        if row["kind"] in ("exact", "intensity"):
            assert weights == [1], (label, row)  # the same emotion, or one grade of it
        elif row["kind"] == "dyad":
            assert weights == [0.5, 0.5], (label, row)  # half on each of the two blended emotions
        else:
            assert row["kind"] == "approximation" and row.get("note"), (label, row)  # says why
        assert row.get("source", table["source"]) in references()


def test_goemotions_to_plutchik_produces_trust_and_anticipation() -> None:
    table = mapping("goemotions", "plutchik")
    assert table.components("love") == ("joy", "trust")
    assert table.kind["love"] == "dyad"
    assert table.components("optimism") == ("joy", "anticipation")
    assert table.components("remorse") == ("sadness", "disgust")
    assert table.components("disapproval") == table.components("disappointment") == ("surprise", "sadness")
    assert table.components("pride") == ("joy", "anger")
    assert table.components("curiosity") == ("trust", "surprise")
    assert table.components("admiration") == ("trust",) and table.kind["admiration"] == "intensity"
    assert table.components("annoyance") == ("anger",) and table.kind["annoyance"] == "intensity"
    assert table.components("nervousness") == ("fear",) and table.kind["nervousness"] == "intensity"
    produced = {target for label in table.source_labels for target in table.components(label)}
    assert produced == set(get_label_set("plutchik").labels)  # every primary is reachable


def test_neutral_means_none_of_these_without_a_no_emotion_class() -> None:
    # Before December 2026 neutral was spread by VAD: 'sadness 0.48, anticipation 0.25, ...'.
    converted = convert_scores({"neutral": 0.8, "joy": 0.2}, "goemotions", "plutchik")
    assert converted["joy"] == pytest.approx(0.2)
    assert sum(converted.values()) == pytest.approx(0.2)  # the neutral 0.8 lowers every target
    assert converted["sadness"] == converted["anticipation"] == 0.0
    assert mapping("goemotions", "plutchik").components("neutral") == ()
    only_neutral = convert_scores({"neutral": 0.9}, "goemotions", "plutchik")
    assert set(only_neutral.values()) == {0.0}
    # a target with a no-emotion class keeps it
    assert convert_scores({"neutral": 0.8, "joy": 0.2}, "goemotions", "ekman")["neutral"] == pytest.approx(0.8)


@pytest.mark.parametrize("source", [name for name in label_set_names() if get_label_set(name).none_label])
def test_neutral_rule_holds_for_every_pair(source: str) -> None:
    none_label = get_label_set(source).none_label
    assert none_label is not None
    for target in label_set_names():
        table = mapping(source, target)
        target_none = get_label_set(target).none_label
        if target_none is None:
            assert table.kind[none_label] == "none" and table.targets(none_label) == []
        else:
            assert table.targets(none_label) == [(target_none, 1.0)]


def test_sigmoid_scores_are_shares_of_their_total() -> None:
    # multi-label scores: each label's share of the total is pushed through the matrix
    converted = convert_scores({"love": 0.9, "neutral": 0.3}, "goemotions", "plutchik")
    assert converted["joy"] == pytest.approx(0.45 / 1.2)
    assert converted["trust"] == pytest.approx(0.45 / 1.2)
    assert sum(converted.values()) == pytest.approx(0.9 / 1.2)


@pytest.mark.parametrize("target", ["goemotions", "ekman", "plutchik", "sentiment"])
def test_every_empatheticdialogues_label_has_a_theory_row(target: str) -> None:
    table = mapping("empatheticdialogues", target)
    assert table.is_defined
    for label in table.source_labels:
        assert table.components(label), label  # every ED emotion is some emotion in the target


def test_empatheticdialogues_spot_checks() -> None:
    plutchik = mapping("empatheticdialogues", "plutchik")
    assert plutchik.components("hopeful") == ("trust", "anticipation")  # hope = anticipation + trust
    assert plutchik.components("anxious") == ("fear", "anticipation")  # anxiety = anticipation + fear
    assert plutchik.components("sentimental") == ("trust", "sadness")
    assert plutchik.kind["terrified"] == "intensity" and plutchik.components("terrified") == ("fear",)
    assert plutchik.components("trusting") == ("trust",) and plutchik.kind["trusting"] == "exact"
    ekman = mapping("empatheticdialogues", "ekman")
    assert ekman.kind["furious"] == "intensity" and ekman.components("furious") == ("anger",)
    assert ekman.components("jealous") == ("anger", "sadness")
    goemotions = mapping("empatheticdialogues", "goemotions")
    assert goemotions.components("grateful") == ("gratitude",) and goemotions.kind["grateful"] == "exact"
    sentiment = convert_scores({"nostalgic": 1.0}, "empatheticdialogues", "sentiment")
    assert sentiment["positive"] == pytest.approx(0.5) and sentiment["negative"] == pytest.approx(0.5)
    # and back: GoEmotions gratitude is ED grateful, Plutchik trust is ED trusting
    assert mapping("goemotions", "empatheticdialogues").components("gratitude") == ("grateful",)
    assert mapping("plutchik", "empatheticdialogues").components("trust") == ("trusting",)
    assert mapping("ravdess", "empatheticdialogues").components("calm") == ("content",)
