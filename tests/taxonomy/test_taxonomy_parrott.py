"""Parrott's tree and grouping by primary emotion."""

from __future__ import annotations

import pytest

from affectlens.taxonomy import (
    PARROTT_PRIMARIES,
    ParrottPath,
    label_set_names,
    parrott_groups,
    parrott_path,
    parrott_primary,
    parrott_tree,
    scores_by_parrott,
)


def test_tree_shape() -> None:
    tree = parrott_tree()
    assert tuple(tree) == PARROTT_PRIMARIES == ("love", "joy", "surprise", "anger", "sadness", "fear")
    assert set(tree["love"]) == {"affection", "lust", "longing"}
    assert len(tree["joy"]) == 7 and len(tree["anger"]) == 6 and len(tree["sadness"]) == 6
    assert set(tree["fear"]) == {"horror", "nervousness"}


def test_paths() -> None:
    assert parrott_path("annoyance") == ParrottPath("anger", "irritation", "annoyance")
    assert parrott_path("contempt") == ParrottPath("anger", "disgust", "contempt")
    assert parrott_path("embarrassment") == ParrottPath("sadness", "neglect", "embarrassment")
    assert parrott_path("Happy") == ParrottPath("joy", "cheerfulness", "happiness")
    assert parrott_primary("fearful") == "fear"
    assert parrott_primary("neutral") is None
    assert parrott_primary("admiration") is None


def test_goemotions_groups() -> None:
    groups = parrott_groups("goemotions")
    assert groups["love"] == ("caring", "desire", "love")
    assert groups["fear"] == ("fear", "nervousness")
    assert "disgust" in groups["anger"]
    assert "remorse" in groups["sadness"]
    placed = {label for members in groups.values() for label in members}
    assert "neutral" not in placed


@pytest.mark.parametrize("name", ["ekman", "ravdess", "ferplus", "fer2013", "meld"])
def test_basic_sets_are_fully_placed_except_neutral_and_calm(name: str) -> None:
    groups = parrott_groups(name)
    placed = {label for members in groups.values() for label in members}
    from affectlens.taxonomy import get_label_set

    assert set(get_label_set(name).labels) - placed <= {"neutral", "calm"}


def test_every_set_groups_without_error() -> None:
    for name in label_set_names():
        assert set(parrott_groups(name)) == set(PARROTT_PRIMARIES)


def test_scores_by_parrott() -> None:
    scores = {"joy": 0.8, "amusement": 0.5, "anger": 0.3, "disgust": 0.6, "neutral": 0.9}
    by_max = scores_by_parrott(scores, "goemotions")
    assert by_max["joy"] == pytest.approx(0.8) and by_max["anger"] == pytest.approx(0.6)
    by_sum = scores_by_parrott(scores, "goemotions", aggregate="sum")
    assert by_sum["joy"] == pytest.approx(1.3) and by_sum["anger"] == pytest.approx(0.9)
    with pytest.raises(ValueError):
        scores_by_parrott({"trust": 1.0}, "ekman")
