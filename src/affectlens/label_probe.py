"""The labels a recognizer scores when its label set is not in the taxonomy (a plugin's own set).

The ``Recognizer`` contract names a label set, not its labels; for a set the taxonomy does not
know, the labels are read off the recognizer's answer to one neutral input of its modality.
"""

from __future__ import annotations

from typing import Any

from affectlens.inputs import AudioClip, ImageFrame
from affectlens.types import Modality

#: any text that gives a segment: a text recognizer scores every label of its set for it
PROBE_TEXT = "I am so happy and grateful for your help, thank you!"


def probe_input(modality: Modality) -> Any | None:
    """One small synthetic input of ``modality`` (a text, a 220 Hz tone, a noise image); None for others."""
    if modality in (Modality.TEXT, Modality.DIALOGUE):
        return PROBE_TEXT
    import numpy as np

    if modality == Modality.SPEECH:
        rate = 16_000
        t = np.arange(rate, dtype=np.float32) / rate
        return AudioClip((0.3 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32), rate, source="tone-220hz")
    if modality == Modality.FACE:
        noise = np.random.default_rng(0).integers(0, 256, (96, 96, 3), dtype=np.uint8)
        return ImageFrame(noise, source="noise")
    return None


def probed_labels(recognizer: Any) -> tuple[str, ...]:
    """The score names of the recognizer's first segment for ``probe_input``; () when it gives none."""
    sample = probe_input(recognizer.modality)
    if sample is None:
        return ()
    results = recognizer.analyze([sample])
    return tuple(results[0].segments[0].scores) if results and results[0].segments else ()
