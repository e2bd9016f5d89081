"""The contracts every component meets (structural typing: no base class needed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from affectlens.types import EmotionResult, Modality


@runtime_checkable
class Recognizer(Protocol):
    """Turns a batch of inputs of one modality into one ``EmotionResult`` per input.

    ``__init__`` only stores parameters; weights load in ``load()`` (called lazily by
    ``analyze`` if needed).  ``analyze`` never opens files: ``processing`` feeds it
    typed inputs (``str``/``TextItem``, ``AudioClip``, ``ImageFrame`` ...).  Bad items
    yield an empty result with a warning, never an exception that loses the batch.
    """

    name: str
    version: str
    modality: Modality
    label_set: str

    def load(self) -> None: ...

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]: ...
