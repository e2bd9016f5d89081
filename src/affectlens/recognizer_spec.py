"""What the registry knows of a recognizer before building it: ``RecognizerSpec`` (no registry state here).

Its own module so that the modules declaring specs (``builtin_models``, ``recognizers/peer_specs``,
plugins) need not import the registry that collects them: the registry imports them, never the
other way round.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from affectlens.protocols import Recognizer
from affectlens.types import Modality


@dataclass(frozen=True)
class RecognizerSpec:
    name: str
    modality: Modality
    label_set: str
    factory: str  # "package.module:callable", imported only when the recognizer is built
    description: str = ""
    license: str = ""
    training_data: str = ""
    headline_metric: str = ""
    size_bytes: int | None = None
    default: bool = False
    extras: dict[str, Any] = field(default_factory=dict)
    # importable modules (beyond the core install) the recognizer needs; a default whose modules are
    # missing gives way to the next default of its modality (``registry.default_for``)
    requires: tuple[str, ...] = ()
    # among the defaults of a modality whose modules are installed, the highest preference wins
    preference: int = 0

    def installed(self) -> bool:
        """Every module of ``requires`` can be imported (found; not imported here: that may be slow)."""
        return all(importlib.util.find_spec(m) is not None for m in self.requires)

    @property
    def version(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    def build(self, **params: Any) -> Recognizer:
        module_name, _, attr = self.factory.partition(":")
        factory: Callable[..., Recognizer] = getattr(importlib.import_module(module_name), attr)
        return factory(**params)


__all__ = ["RecognizerSpec"]
