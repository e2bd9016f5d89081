"""Short-time spectra and log-mel spectrograms in plain numpy (one definition for training and inference).

Why our own ~60 lines instead of librosa: the model's input must be computed the same
way when the recipe trains it and when the recognizer runs it, and librosa costs a long
JIT warm-up in every fresh environment.  Conventions: 25 ms Hann window (400 samples at
16 kHz), 10 ms hop, 512-point FFT, HTK mel scale, 64 bands from 50 to 8000 Hz,
``log(power + 1e-6)``.  Frames are centred (the signal is reflect-padded by half a window)
so frame ``t`` is at ``t * hop / rate`` seconds.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

RATE = 16_000
N_FFT = 512
WIN = 400
HOP = 160
N_MELS = 64
FMIN = 50.0
FMAX = 8000.0
LOG_FLOOR = 1e-6


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


@lru_cache(maxsize=8)
def mel_filterbank(*, rate: int = RATE, n_fft: int = N_FFT, n_mels: int = N_MELS, fmin: float = FMIN,
                   fmax: float = FMAX) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) triangular filters, each normalised to unit area (equal-energy bands)."""
    freqs = np.linspace(0.0, rate / 2.0, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(min(fmax, rate / 2.0)), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lower) / np.maximum(centre - lower, 1e-9)
    falling = (upper - freqs[None, :]) / np.maximum(upper - centre, 1e-9)
    bank = np.clip(np.minimum(rising, falling), 0.0, None)
    bank /= np.maximum(bank.sum(axis=1, keepdims=True), 1e-12)
    bank.setflags(write=False)
    return bank.astype(np.float32)


def frames(x: np.ndarray, *, win: int = WIN, hop: int = HOP, center: bool = True) -> np.ndarray:
    """(n_frames, win) view of ``x`` (reflect-padded by ``win // 2`` when centred; short input zero-padded)."""
    x = np.asarray(x, dtype=np.float32).reshape(-1)
    if center:
        pad = win // 2
        x = np.pad(x, (pad, pad), mode="reflect" if x.size > pad else "constant")
    if x.size < win:
        x = np.pad(x, (0, win - x.size))
    return np.lib.stride_tricks.sliding_window_view(x, win)[::hop]


@lru_cache(maxsize=4)
def _window(win: int) -> np.ndarray:
    return np.hanning(win + 1)[:-1].astype(np.float32)


def power_spectrogram(x: np.ndarray, *, n_fft: int = N_FFT, win: int = WIN, hop: int = HOP) -> np.ndarray:
    """(n_frames, n_fft // 2 + 1) power spectrum of Hann-windowed frames."""
    spec = np.fft.rfft(frames(x, win=win, hop=hop) * _window(win), n=n_fft, axis=1)
    return (spec.real**2 + spec.imag**2).astype(np.float32)


def mel_power(x: np.ndarray, *, rate: int = RATE, n_mels: int = N_MELS) -> np.ndarray:
    """(n_mels, n_frames) mel-band power (linear: noise can be added in this domain)."""
    bank = mel_filterbank(rate=rate, n_mels=n_mels)
    return np.ascontiguousarray((power_spectrogram(x) @ bank.T).T)


def log_mel(x: np.ndarray, *, rate: int = RATE, n_mels: int = N_MELS) -> np.ndarray:
    """(n_mels, n_frames) ``log(mel power + 1e-6)``: the speech model's input before normalisation."""
    return np.log(mel_power(x, rate=rate, n_mels=n_mels) + LOG_FLOOR).astype(np.float32)


def normalise_log_mel(logmel: np.ndarray, mean: np.ndarray | None = None, std: np.ndarray | None = None,
                      *, min_std: float = 0.5) -> np.ndarray:
    """Per-band standardisation by reference statistics (default: the input's own over time).

    ``mean``/``std`` of shape (n_mels,) come from unlabelled audio of the same file or
    speaker (see ``docs/speech.md``); ``min_std`` keeps near-silent bands from exploding.
    """
    if mean is None:
        mean = logmel.mean(axis=1)
    if std is None:
        std = logmel.std(axis=1)
    std = np.maximum(np.asarray(std, np.float32), min_std)
    return ((logmel - np.asarray(mean, np.float32)[:, None]) / std[:, None]).astype(np.float32)
