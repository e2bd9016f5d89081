"""Mappings between label sets, convert_scores and vad_from_scores."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from affectlens.taxonomy import (
    LabelMapping,
    UnknownLabelSet,
    convert_scores,
    get_label_set,
    grouping,
    label_set_names,
    mapping,
    vad_from_scores,
)

# google-research/google-research goemotions/data/ekman_mapping.json
OFFICIAL_EKMAN = {
    "anger": ["anger", "annoyance", "disapproval"],
    "disgust": ["disgust"],
    "fear": ["fear", "nervousness"],
    "joy": ["joy", "amusement", "approval", "excitement", "gratitude", "love", "optimism", "relief",
            "pride", "admiration", "desire", "caring"],
    "sadness": ["sadness", "disappointment", "embarrassment", "grief", "remorse"],
    "surprise": ["surprise", "realization", "confusion", "curiosity"],
}
# google-research/google-research goemotions/data/sentiment_dict.json
OFFICIAL_SENTIMENT = {
    "positive": ["amusement", "excitement", "joy", "love", "desire", "optimism", "caring", "pride",
                 "admiration", "gratitude", "relief", "approval"],
    "negative": ["fear", "nervousness", "remorse", "embarrassment", "disappointment", "sadness", "grief",
                 "disgust", "anger", "annoyance", "disapproval"],
    "ambiguous": ["realization", "surprise", "curiosity", "confusion"],
}

PAIRS = list(itertools.product(label_set_names(), repeat=2))


def one_hot(label: str) -> dict[str, float]:
    return {label: 1.0}


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_every_mapping_is_row_stochastic_except_none_of_these(source: str, target: str) -> None:
    table = mapping(source, target)
    assert isinstance(table, LabelMapping)
    assert table.matrix.shape == (len(get_label_set(source)), len(get_label_set(target)))
    assert np.all(table.matrix >= 0)
    assert set(table.kind) == set(table.source_labels) == set(table.source)
    assert set(table.kind.values()) <= {"exact", "intensity", "dyad", "approximation", "none", "vad"}
    for i, label in enumerate(table.source_labels):
        if table.kind[label] == "none":  # the neutral rule: "none of these" lowers every target
            assert label == get_label_set(source).none_label and get_label_set(target).none_label is None
            assert table.matrix[i].sum() == 0.0
        else:
            assert table.matrix[i].sum() == pytest.approx(1.0)
        assert table.source[label]
    assert not table.matrix.flags.writeable


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_every_row_comes_from_a_theory(source: str, target: str) -> None:
    # Since the December 2026 re-derivation no pair needs the VAD fallback; a new set that
    # does must say so here on purpose.
    assert mapping(source, target).is_defined


@pytest.mark.parametrize("name", label_set_names())
def test_identity(name: str) -> None:
    table = mapping(name, name)
    assert np.array_equal(table.matrix, np.eye(len(get_label_set(name))))
    assert table.is_exact


def test_goemotions_to_ekman_matches_official_grouping() -> None:
    table = mapping("goemotions", "ekman")
    assert table.is_defined and not table.is_exact  # e.g. approval -> joy is the paper's grouping, not joy
    for ekman_label, members in OFFICIAL_EKMAN.items():
        for member in members:
            assert table.row(member)[ekman_label] == 1.0
    assert table.row("neutral")["neutral"] == 1.0
    assert grouping("goemotions", "ekman") == {
        member: group for group, members in OFFICIAL_EKMAN.items() for member in members
    } | {"neutral": "neutral"}


def test_goemotions_to_sentiment_matches_official_grouping() -> None:
    table = mapping("goemotions", "sentiment")
    assert table.is_defined
    for polarity in ("positive", "negative"):
        for member in OFFICIAL_SENTIMENT[polarity]:
            assert table.row(member)[polarity] == 1.0
    for member in [*OFFICIAL_SENTIMENT["ambiguous"], "neutral"]:  # ambiguous is folded into neutral
        assert table.row(member)["neutral"] == 1.0


def test_ekman_to_sentiment_commutes_with_the_goemotions_groupings() -> None:
    via_ekman = mapping("goemotions", "ekman").matrix @ mapping("ekman", "sentiment").matrix
    assert np.allclose(via_ekman, mapping("goemotions", "sentiment").matrix)


@pytest.mark.parametrize(("source", "expected"), [
    ("ravdess", {"happy": "joy", "sad": "sadness", "angry": "anger", "fearful": "fear",
                 "surprised": "surprise", "disgust": "disgust", "neutral": "neutral"}),
    ("ferplus", {"happiness": "joy", "neutral": "neutral", "surprise": "surprise", "sadness": "sadness",
                 "anger": "anger", "disgust": "disgust", "fear": "fear"}),
    ("meld", {label: label for label in get_label_set("meld").labels}),
    ("fer2013", {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "joy", "sad": "sadness",
                 "surprise": "surprise", "neutral": "neutral"}),
])
def test_dataset_sets_to_ekman(source: str, expected: dict[str, str]) -> None:
    table = mapping(source, "ekman")
    for label, target in expected.items():
        assert table.kind[label] == "exact"
        assert table.row(label)[target] == 1.0


def test_labels_without_a_counterpart_are_approximations_that_land_where_documented() -> None:
    # these four were VAD rows until December 2026 (neutral came out 'sadness 0.48' in Plutchik)
    assert mapping("ravdess", "ekman").kind["calm"] == "approximation"
    assert mapping("ravdess", "ekman").targets("calm") == [("neutral", 1.0)]
    assert mapping("ravdess", "plutchik").kind["calm"] == "intensity"  # serenity, the mild ring of joy
    assert mapping("ravdess", "plutchik").targets("calm") == [("joy", 1.0)]
    assert mapping("ferplus", "ekman").kind["contempt"] == "approximation"
    assert mapping("ferplus", "ekman").targets("contempt") == [("anger", 0.5), ("disgust", 0.5)]
    assert mapping("ferplus", "plutchik").kind["contempt"] == "dyad"
    assert mapping("plutchik", "ekman").kind["trust"] == "approximation"
    assert mapping("plutchik", "ekman").targets("anticipation") == [("joy", 1.0)]  # not surprise, its opposite
    assert mapping("goemotions", "plutchik").kind["neutral"] == "none"
    assert mapping("goemotions", "plutchik").targets("neutral") == []


def test_fer2013_maps_one_to_one_into_ferplus() -> None:
    expected = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness", "sad": "sadness",
                "surprise": "surprise", "neutral": "neutral"}
    assert grouping("fer2013", "ferplus") == expected
    table = mapping("fer2013", "ferplus")
    assert table.is_exact
    for label, target in expected.items():
        assert table.row(label)[target] == 1.0
    assert table.matrix[:, table.target_labels.index("contempt")].sum() == 0.0  # no FER2013 source
    back = mapping("ferplus", "fer2013")
    assert back.kind["contempt"] == "approximation" and back.kind["happiness"] == "exact"
    assert back.targets("contempt") == [("angry", 0.5), ("disgust", 0.5)]  # via Ekman, Plutchik's dyad
    assert back.row("happiness")["happy"] == 1.0


def test_fer2013_vad_uses_its_own_anchors() -> None:
    anchors = get_label_set("fer2013").anchors
    assert vad_from_scores({"happy": 1.0}, "fer2013") == anchors["happy"]
    assert anchors["happy"].valence > 0 > anchors["angry"].valence
    assert get_label_set("fer2013").anchor_sources["sad"].headword == "sad"


def test_composition_through_ekman_is_exact() -> None:
    table = mapping("ravdess", "ferplus")
    assert table.kind["happy"] == "exact" and table.row("happy")["happiness"] == pytest.approx(1.0)
    table = mapping("meld", "goemotions")
    assert table.kind["fear"] == "exact"
    assert table.targets("fear") == [("fear", 1.0)]  # the reverse table prefers the label that *is* fear
    assert mapping("ravdess", "sentiment").row("angry")["negative"] == pytest.approx(1.0)


def test_reverse_grouping_stays_inside_the_group() -> None:
    table = mapping("ekman", "goemotions")
    assert table.is_exact
    assert mapping("sentiment", "goemotions").kind["negative"] == "approximation"  # spread over 11 labels
    for polarity in ("positive", "negative"):
        support = {label for label, _ in mapping("sentiment", "goemotions").targets(polarity)}
        assert support == set(OFFICIAL_SENTIMENT[polarity])
    for ekman_label, members in OFFICIAL_EKMAN.items():
        support = {label for label, _ in table.targets(ekman_label)}
        assert support <= set(members)
        assert table.targets(ekman_label)[0][0] == ekman_label  # the same-named label weighs most


@pytest.mark.parametrize(("outer", "inner"), [
    ("ekman", "goemotions"), ("sentiment", "goemotions"), ("ekman", "meld"), ("ekman", "ferplus"),
    ("ekman", "ravdess"), ("sentiment", "ekman"), ("meld", "ravdess"), ("ekman", "fer2013"), ("fer2013", "meld"),
])
def test_round_trip_keeps_argmax(outer: str, inner: str) -> None:
    for label in get_label_set(outer).labels:
        there = convert_scores(one_hot(label), outer, inner)
        back = convert_scores(there, inner, outer)
        assert max(back, key=back.__getitem__) == label, (outer, inner, label, back)


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_convert_one_hot_equals_matrix_row(source: str, target: str) -> None:
    table = mapping(source, target)
    for label in table.source_labels:
        converted = convert_scores(one_hot(label), source, target)
        assert list(converted) == list(table.target_labels)
        assert converted == pytest.approx(table.row(label))


def test_convert_multilabel_sum_is_renormalised() -> None:
    scores = {"joy": 0.9, "amusement": 0.6, "anger": 0.3}  # independent sigmoid scores
    converted = convert_scores(scores, "goemotions", "ekman")
    assert sum(converted.values()) == pytest.approx(1.0)
    assert converted["joy"] == pytest.approx(1.5 / 1.8)
    assert converted["anger"] == pytest.approx(0.3 / 1.8)


def test_convert_max_keeps_strongest_member() -> None:
    scores = {"joy": 0.9, "amusement": 0.6, "anger": 0.3}
    converted = convert_scores(scores, "goemotions", "ekman", aggregate="max")
    assert converted["joy"] == pytest.approx(0.9)
    assert converted["anger"] == pytest.approx(0.3)
    assert converted["fear"] == 0.0


def test_convert_edge_cases() -> None:
    assert set(convert_scores({}, "ekman", "sentiment").values()) == {0.0}
    with pytest.raises(ValueError, match="admiration"):
        convert_scores({"admiration": 1.0}, "ekman", "sentiment")
    with pytest.raises(ValueError):
        convert_scores({"joy": -0.1}, "ekman", "sentiment")
    with pytest.raises(ValueError):
        convert_scores({"joy": float("nan")}, "ekman", "sentiment")
    with pytest.raises(ValueError, match="aggregate"):
        convert_scores({"joy": 1.0}, "ekman", "sentiment", aggregate="mean")  # type: ignore[arg-type]


def test_unknown_sets_raise() -> None:
    with pytest.raises(UnknownLabelSet):
        mapping("nope", "ekman")
    with pytest.raises(UnknownLabelSet):
        convert_scores({"joy": 1.0}, "ekman", "nope")
    with pytest.raises(UnknownLabelSet):
        vad_from_scores({"joy": 1.0}, "nope")


def test_vad_from_scores() -> None:
    anchors = get_label_set("ekman").anchors
    assert vad_from_scores(one_hot("anger"), "ekman") == anchors["anger"]
    mixed = vad_from_scores({"joy": 3.0, "sadness": 1.0}, "ekman")
    assert mixed.valence == pytest.approx(0.75 * anchors["joy"].valence + 0.25 * anchors["sadness"].valence)
    assert mixed.arousal == pytest.approx(0.75 * anchors["joy"].arousal + 0.25 * anchors["sadness"].arousal)
    zero = vad_from_scores({}, "ekman")
    assert (zero.valence, zero.arousal, zero.dominance) == (0.0, 0.0, 0.0)
    assert vad_from_scores({"joy": 1.0}, "goemotions").valence > 0 > vad_from_scores(
        {"grief": 1.0}, "goemotions").valence


def test_mapping_serialisation() -> None:
    data = mapping("goemotions", "ekman").to_dict()
    assert data["from"] == "goemotions" and data["to"] == "ekman"
    first = data["rows"][0]
    assert (first["label"], first["kind"], first["targets"]) == ("admiration", "approximation",
                                                                  [{"label": "joy", "weight": 1.0}])
    assert first["source"].endswith("[goemotions_ekman]")
    assert "Demszky" in data["references"]["goemotions_ekman"]
