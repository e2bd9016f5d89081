"""Acoustic functionals: fixed length, finite, and they move with the voice they describe."""

from __future__ import annotations

import numpy as np
import pytest

from affectlens.features.functionals import FUNCTIONAL_NAMES, acoustic_functionals, zscore_rows
from affectlens.features.spectral import log_mel

RATE = 16_000


def voice(f0: float, seconds: float = 1.5, amp: float = 0.2) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 10))
    return (amp * x * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))).astype(np.float32)


def functionals(x: np.ndarray) -> dict[str, float]:
    values = acoustic_functionals(x, log_mel(x))
    assert values.shape == (len(FUNCTIONAL_NAMES),) and np.isfinite(values).all()
    return dict(zip(FUNCTIONAL_NAMES, values, strict=True))


def test_names_are_unique_and_cover_every_value() -> None:
    assert len(set(FUNCTIONAL_NAMES)) == len(FUNCTIONAL_NAMES) == 218


def test_pitch_and_loudness_follow_the_voice() -> None:
    low, high = functionals(voice(110)), functionals(voice(220))
    # an octave is 12 semitones
    assert abs((high["pitch_st_mean"] - low["pitch_st_mean"]) - 12.0) < 1.0
    assert high["voiced_fraction"] > 0.5
    quiet, loud = functionals(voice(150, amp=0.05)), functionals(voice(150, amp=0.4))
    assert abs((loud["loudness_db_mean"] - quiet["loudness_db_mean"]) - 20 * np.log10(8)) < 1.5


def test_silence_noise_and_tiny_inputs_give_finite_values() -> None:
    silent = functionals(np.zeros(RATE, np.float32))
    assert silent["voiced_fraction"] == 0.0 and silent["pitch_st_mean"] == 0.0
    functionals(np.random.default_rng(0).standard_normal(RATE).astype(np.float32) * 0.1)
    tiny = np.zeros(100, np.float32)
    assert not acoustic_functionals(tiny, log_mel(tiny)).any()


def test_zscore_rows_uses_the_floor_for_flat_columns() -> None:
    rows = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    z = zscore_rows(rows, floor=np.array([0.1, 2.0]))
    assert np.allclose(z[:, 0], [-1.2247, 0.0, 1.2247], atol=1e-3)
    assert np.allclose(z[:, 1], 0.0)
    assert np.allclose(zscore_rows(rows, floor=np.array([4.0, 1.0]))[:, 0], [-0.5, 0.0, 0.5])


def test_mfcc_matches_scipys_orthonormal_dct() -> None:
    fft = pytest.importorskip("scipy.fft")
    from affectlens.features.functionals import N_MFCC, _mfcc

    logmel = np.random.default_rng(1).standard_normal((64, 50))
    assert np.allclose(_mfcc(logmel), fft.dct(logmel, type=2, norm="ortho", axis=0)[:N_MFCC], atol=1e-10)


def test_functionals_need_no_scipy() -> None:
    """The speech runtime (the 'speech' extra) does not install scipy."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['scipy'] = None\n"
            "import numpy as np\n"
            "from affectlens.features.functionals import acoustic_functionals\n"
            "from affectlens.features.spectral import log_mel\n"
            "x = np.sin(np.arange(16000) * 0.05).astype(np.float32)\n"
            "print(acoustic_functionals(x, log_mel(x)).shape)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(218,)"
