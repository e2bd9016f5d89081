"""Synthetic speech-like audio for the speech recognizers' tests: harmonic voices between silences."""

from __future__ import annotations

import numpy as np

RATE = 16_000


def voice(f0: float, seconds: float, amp: float = 0.2) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 10))
    return (amp * x * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.float32)


# three utterances: medium, loud and high, quiet and low
TALK = np.concatenate([silence(0.5), voice(120, 1.5), silence(1.0), voice(250, 2.0, 0.5), silence(1.0),
                       voice(110, 1.2, 0.1), silence(0.5)])
