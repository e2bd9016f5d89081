"""Small synthetic inputs of every modality for contract checks."""

from __future__ import annotations

from typing import Any

from affectlens.inputs import AudioClip, ImageFrame
from affectlens.label_probe import PROBE_TEXT, probe_input
from affectlens.types import Modality

SAMPLE_TEXTS: tuple[str, ...] = (
    PROBE_TEXT,
    "This is disgusting. I hate waiting in line for hours.",
    "I'm scared and worried about tomorrow's exam.",
    "Wow, I did not expect that at all!",
    "The meeting is at 3 pm in room 204.",
    "Je suis très content 😊 — mais un peu triste aussi.",
    "I miss her so much; the house feels lonely without her. " * 4,
)


def sample_inputs_for(modality: Modality) -> list[Any]:
    """Small synthetic inputs of a modality: the runtime's probe input first (texts, a tone and
    silence, noise and a grey image)."""
    if modality in (Modality.TEXT, Modality.DIALOGUE):
        return list(SAMPLE_TEXTS)
    import numpy as np

    if modality == Modality.SPEECH:
        return [probe_input(modality), AudioClip(np.zeros(16_000 // 2, np.float32), 16_000)]
    if modality == Modality.FACE:
        return [probe_input(modality), ImageFrame(np.full((64, 64, 3), 128, np.uint8))]
    return []
