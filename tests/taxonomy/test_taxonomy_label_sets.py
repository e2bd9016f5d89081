"""Label sets and their VAD anchors."""

from __future__ import annotations

import pytest

from affectlens.taxonomy import (
    UnknownLabelSet,
    get_label_set,
    label_set_names,
    lexicon_info,
    list_label_sets,
)
from affectlens.taxonomy._data import load_json
from affectlens.types import VAD

# Official order: google-research/google-research goemotions/data/emotions.txt
GOEMOTIONS = (
    "admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion", "curiosity",
    "desire", "disappointment", "disapproval", "disgust", "embarrassment", "excitement", "fear",
    "gratitude", "grief", "joy", "love", "nervousness", "optimism", "pride", "realization", "relief",
    "remorse", "sadness", "surprise", "neutral",
)

EXPECTED = {
    "goemotions": GOEMOTIONS,
    "ekman": ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"),
    "plutchik": ("joy", "trust", "fear", "surprise", "sadness", "disgust", "anger", "anticipation"),
    "sentiment": ("positive", "negative", "neutral"),
    "ravdess": ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"),
    "ferplus": ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt"),
    "fer2013": ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"),  # Kaggle ids 0-6
    "meld": ("neutral", "joy", "surprise", "anger", "sadness", "disgust", "fear"),
    # the official release's 'context' strings, alphabetical
    "empatheticdialogues": (
        "afraid", "angry", "annoyed", "anticipating", "anxious", "apprehensive", "ashamed", "caring",
        "confident", "content", "devastated", "disappointed", "disgusted", "embarrassed", "excited",
        "faithful", "furious", "grateful", "guilty", "hopeful", "impressed", "jealous", "joyful", "lonely",
        "nostalgic", "prepared", "proud", "sad", "sentimental", "surprised", "terrified", "trusting",
    ),
}


def test_registered_sets_and_label_order() -> None:
    assert set(label_set_names()) == set(EXPECTED)
    for name, labels in EXPECTED.items():
        assert get_label_set(name).labels == labels
    assert [s.name for s in list_label_sets()] == list(label_set_names())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_label_has_an_anchor_in_range(name: str) -> None:
    label_set = get_label_set(name)
    assert set(label_set.anchors) == set(label_set.labels)
    for label in label_set.labels:
        vad = label_set.anchors[label]
        assert isinstance(vad, VAD)
        for value in (vad.valence, vad.arousal, vad.dominance):
            assert -1.0 <= value <= 1.0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_anchor_is_rescaled_lexicon_entry(name: str) -> None:
    lexicon = load_json("nrc_vad_anchors.json")["entries"]
    label_set = get_label_set(name)
    for label in label_set.labels:
        origin = label_set.anchor_sources[label]
        raw = lexicon[origin.headword]
        vad = label_set.anchors[label]
        assert (origin.raw_valence, origin.raw_arousal, origin.raw_dominance) == tuple(raw)
        assert vad.valence == pytest.approx(2 * raw[0] - 1)
        assert vad.arousal == pytest.approx(2 * raw[1] - 1)
        assert vad.dominance == pytest.approx(2 * raw[2] - 1)


def test_known_anchor_values() -> None:
    # NRC VAD v1 line "joy\t0.980\t0.824\t0.794"
    joy = get_label_set("ekman").anchors["joy"]
    assert (joy.valence, joy.arousal, joy.dominance) == pytest.approx((0.96, 0.648, 0.588))
    neutral = get_label_set("sentiment").anchors["neutral"]
    assert neutral.valence == pytest.approx(-0.062)


def test_sanity_of_anchor_geometry() -> None:
    ekman = get_label_set("ekman").anchors
    assert ekman["joy"].valence > 0 > ekman["anger"].valence
    assert ekman["sadness"].arousal < ekman["anger"].arousal
    sentiment = get_label_set("sentiment").anchors
    assert sentiment["positive"].valence > sentiment["neutral"].valence > sentiment["negative"].valence


def test_provenance_is_recorded() -> None:
    info = lexicon_info()
    assert "Mohammad" in str(info["citation"])
    read_from = info["read_from"]
    assert isinstance(read_from, dict) and len(read_from["commit"]) == 40
    assert "research" in str(info["license"]).lower()
    for label_set in list_label_sets():
        assert label_set.source and label_set.description


def test_lookup_is_case_insensitive_and_cached() -> None:
    assert get_label_set("GoEmotions") is get_label_set("goemotions")


def test_unknown_set() -> None:
    with pytest.raises(UnknownLabelSet) as caught:
        get_label_set("nope")
    assert isinstance(caught.value, KeyError)
    assert "nope" in str(caught.value) and "goemotions" in str(caught.value)
    assert not str(caught.value).startswith('"')


def test_index_names_the_set() -> None:
    with pytest.raises(ValueError, match="ekman"):
        get_label_set("ekman").index("admiration")
