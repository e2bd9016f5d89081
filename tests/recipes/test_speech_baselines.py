"""The degradations of the speech robustness checks and augmented copies: white noise, babble, a room."""

from __future__ import annotations

import numpy as np

from affectlens_recipes.speech_baselines import add_noise, babble, reverb


def _tone(seconds: float = 1.0, f0: float = 200.0) -> np.ndarray:
    t = np.arange(int(16000 * seconds)) / 16000
    return (0.3 * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


def _snr_db(clean: np.ndarray, degraded: np.ndarray) -> float:
    noise = degraded.astype(np.float64) - clean
    return float(10 * np.log10(np.mean(clean.astype(np.float64) ** 2) / np.mean(noise**2)))


def test_white_noise_and_babble_land_at_the_asked_snr() -> None:
    x, rng = _tone(), np.random.default_rng(0)
    assert abs(_snr_db(x, add_noise(x, 10.0, rng)) - 10.0) < 0.2
    others = [_tone(0.7, f) for f in (110.0, 150.0, 260.0, 330.0, 410.0, 520.0, 610.0)]
    assert abs(_snr_db(x, babble(x, others, 20.0, rng)) - 20.0) < 0.2


def test_reverb_keeps_length_and_peak_and_smears_the_end() -> None:
    x = np.zeros(16000, np.float32)
    x[:4000] = _tone(0.25)
    y = reverb(x, np.random.default_rng(1), rt60=0.5)
    assert y.shape == x.shape and y.dtype == np.float32
    assert np.isclose(np.abs(y).max(), np.abs(x).max())
    assert np.abs(y[6000:8000]).mean() > 10 * np.abs(x[6000:8000]).mean() + 1e-4  # the tail rings on
    np.testing.assert_array_equal(reverb(x, np.random.default_rng(1), rt60=0.5), y)  # seeded
