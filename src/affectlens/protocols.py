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

    ``label_set`` names the taxonomy label set its scores cover (every label of it, nothing
    else).  ``get_params()`` returns the constructor's keyword arguments; ``with_params(**kw)``
    returns a configured copy (the original is unchanged) and raises a ``TypeError`` naming the
    valid parameters for an unknown one.  ``affectlens.recognizer_params.RecognizerParams``
    implements both.
    """

    name: str
    version: str
    modality: Modality
    label_set: str

    def load(self) -> None: ...

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]: ...

    def get_params(self) -> dict[str, Any]: ...

    def with_params(self, **params: Any) -> Recognizer: ...
