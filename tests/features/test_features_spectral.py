"""Log-mel conventions on signals with known answers."""

from __future__ import annotations

import numpy as np

from affectlens.features.spectral import HOP, N_MELS, hz_to_mel, log_mel, mel_filterbank, mel_to_hz, normalise_log_mel


def test_filterbank_is_equal_area_and_ordered() -> None:
    bank = mel_filterbank()
    assert bank.shape == (N_MELS, 257)
    np.testing.assert_allclose(bank.sum(axis=1), 1.0, rtol=1e-5)
    centres = (bank * np.arange(257)).sum(axis=1)
    assert np.all(np.diff(centres) > 0)
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(1234.0)), 1234.0)


def test_tone_lands_in_its_band_and_frames_are_centred() -> None:
    t = np.arange(16_000) / 16_000
    x = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    m = log_mel(x)
    assert m.shape == (N_MELS, 16_000 // HOP + 1)
    band = int(np.argmax(m[:, 50]))
    edges = mel_to_hz(np.linspace(hz_to_mel(50.0), hz_to_mel(8000.0), N_MELS + 2))
    assert edges[band] < 1000 < edges[band + 2]


def test_silence_and_tiny_input_are_finite() -> None:
    assert np.isfinite(log_mel(np.zeros(16_000, np.float32))).all()
    assert log_mel(np.zeros(10, np.float32)).shape[1] >= 1


def test_normalisation_by_own_or_reference_statistics() -> None:
    rng = np.random.default_rng(0)
    m = rng.standard_normal((N_MELS, 300)).astype(np.float32) * 3 + 5
    own = normalise_log_mel(m)
    np.testing.assert_allclose(own.mean(axis=1), 0.0, atol=1e-4)
    ref = normalise_log_mel(m, np.full(N_MELS, 5.0), np.full(N_MELS, 3.0))
    np.testing.assert_allclose(ref, (m - 5) / 3, rtol=1e-5)
    flat = normalise_log_mel(np.ones((N_MELS, 10), np.float32))  # zero spread: floored, no division by 0
    assert np.isfinite(flat).all()
