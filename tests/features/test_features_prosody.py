"""Prosody on synthetic voices with known pitch, loudness and rhythm; cues and their phrases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from affectlens.features.prosody import Baseline, cue_phrase, pitch_yin, prosody_cues, prosody_features, zscores

RATE = 16_000


def voice(f0: float, seconds: float = 1.5, amp: float = 0.2, syllables_hz: float = 4.0) -> np.ndarray:
    """A harmonic 'vowel' at ``f0`` with a syllable-rate loudness envelope."""
    t = np.arange(int(seconds * RATE)) / RATE
    phase = 2 * np.pi * f0 * t
    x = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.25 + 0.75 * (0.5 + 0.5 * np.sin(2 * np.pi * syllables_hz * t - np.pi / 2)) ** 2
    return (amp * x * envelope / 2).astype(np.float32)


@pytest.mark.parametrize("f0", [70.0, 110.0, 220.0, 330.0, 480.0])
def test_yin_recovers_pure_tone_pitch(f0: float) -> None:
    t = np.arange(RATE) / RATE
    est, aperiodicity = pitch_yin((0.3 * np.sin(2 * np.pi * f0 * t)).astype(np.float32))
    voiced = est > 0
    assert voiced.mean() > 0.9
    assert abs(np.median(est[voiced]) - f0) / f0 < 0.01
    assert np.median(aperiodicity[voiced]) < 0.1


def test_yin_says_unvoiced_for_silence_and_noise() -> None:
    assert (pitch_yin(np.zeros(RATE, np.float32))[0] == 0).all()
    noise = np.random.default_rng(0).standard_normal(RATE).astype(np.float32) * 0.1
    assert (pitch_yin(noise)[0] > 0).mean() < 0.1


def test_features_follow_pitch_loudness_and_rate() -> None:
    base = prosody_features(voice(120.0))
    octave = prosody_features(voice(240.0))
    louder = prosody_features(voice(120.0, amp=0.4))
    faster = prosody_features(voice(120.0, seconds=3.0, syllables_hz=6.0))
    slower = prosody_features(voice(120.0, seconds=3.0, syllables_hz=2.0))
    assert base["pitch_median_st"] == pytest.approx(12 * math.log2(1.2), abs=0.2)
    assert octave["pitch_median_st"] - base["pitch_median_st"] == pytest.approx(12.0, abs=0.3)
    assert louder["loudness_db"] - base["loudness_db"] == pytest.approx(6.02, abs=0.3)
    assert faster["speaking_rate"] > slower["speaking_rate"]
    assert base["pitch_range_st"] < 1.0 and base["jitter_pct"] < 1.0
    assert 0.5 < base["voiced_fraction"] <= 1.0


def test_undefined_features_are_nan_not_errors() -> None:
    short = prosody_features(np.zeros(100, np.float32))
    assert math.isnan(short["pitch_median_st"]) and short["voiced_fraction"] == 0.0
    silent = prosody_features(np.zeros(RATE, np.float32))
    assert math.isnan(silent["pitch_median_st"])
    with pytest.raises(ValueError, match="16000"):
        prosody_features(np.zeros(8000, np.float32), 8000)


def test_cues_are_z_scores_against_the_file_baseline() -> None:
    rows = [prosody_features(voice(f0)) for f0 in (110.0, 115.0, 120.0, 125.0, 130.0)]
    baseline = Baseline.from_segments(rows)
    high = prosody_features(voice(200.0, amp=0.4))
    z = zscores(high, baseline)
    assert z["pitch_median_st"] > 3 and z["loudness_db"] > 1
    cues = prosody_cues(high, baseline)
    assert cues[0].feature == "pitch_median_st" and cues[0].arousal_direction == 1.0
    assert cues[0].phrase.startswith("pitch +") and cues[0].phrase.endswith("SD above this file's median")
    assert all(abs(c.z) >= 0.5 for c in cues)
    assert prosody_cues(rows[2], baseline) == [] or all(abs(c.z) < 2 for c in prosody_cues(rows[2], baseline))


def test_phrase_format() -> None:
    assert cue_phrase("pitch_median_st", 1.84, "this file's median") == "pitch +1.8 SD above this file's median"
    assert cue_phrase("speaking_rate", -0.96, "this speaker's median") == (
        "speaking rate -1.0 SD slower than this speaker's median")
