"""Typed, validated inputs that recognizers consume (recognizers never open files)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class InputError(ValueError):
    """Input that cannot be analysed: the message says what is wrong and where."""


@dataclass(frozen=True)
class TextItem:
    text: str
    record_id: str | None = None
    source: str | None = None
    speaker: str | None = None
    turn: int | None = None
    start: float | None = None
    end: float | None = None
    dialogue_id: str | None = None  # turns of one conversation share it (read together by context models)


@dataclass(frozen=True)
class AudioClip:
    """Mono float32 samples in [-1, 1] at ``sample_rate`` Hz, starting at ``offset`` s in ``source``."""

    samples: np.ndarray
    sample_rate: int
    source: str | None = None
    offset: float = 0.0
    record_id: str | None = None

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate)


@dataclass(frozen=True)
class ImageFrame:
    """RGB uint8 pixels (H, W, 3); ``time`` in seconds for video frames."""

    pixels: np.ndarray
    source: str | None = None
    time: float | None = None
    frame_index: int | None = None
    record_id: str | None = None


@dataclass(frozen=True)
class FaceCrop(ImageFrame):
    """An image that is already one cropped, centred face (e.g. a FER+ image): no detection, no margin."""


def as_text_item(value: object) -> TextItem:
    if isinstance(value, TextItem):
        return value
    if isinstance(value, str):
        return TextItem(value)
    raise InputError(f"expected text (str), got {type(value).__name__}")
