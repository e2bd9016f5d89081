"""Versioned recognizer names -> lazily imported factories; plugins by entry point.

A name reads ``<modality>.<model>.<version>`` (``text.minilm-goemotions.v1``).  Third
parties register through the ``affectlens.recognizers`` entry-point group: each entry
point resolves to a ``RecognizerSpec`` (or a list of them).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from affectlens.protocols import Recognizer
from affectlens.recognizer_spec import RecognizerSpec as RecognizerSpec  # re-exported: its home before
from affectlens.types import Modality

ENTRY_POINT_GROUP = "affectlens.recognizers"


class UnknownRecognizer(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


_REGISTRY: dict[str, RecognizerSpec] = {}
_plugins_loaded = False


def register(spec: RecognizerSpec, *, replace: bool = False) -> RecognizerSpec:
    if spec.name in _REGISTRY and not replace:
        raise ValueError(f"recognizer {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from affectlens.builtin_models import BUILTIN_SPECS  # the shipped models and the peers

    for builtin in BUILTIN_SPECS:
        if builtin.name not in _REGISTRY:
            register(builtin)

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        loaded = ep.load()
        specs = loaded if isinstance(loaded, list | tuple) else [loaded]
        for spec in specs:
            if isinstance(spec, RecognizerSpec) and spec.name not in _REGISTRY:
                register(spec)


def available(modality: Modality | None = None) -> list[RecognizerSpec]:
    _load_plugins()
    specs = sorted(_REGISTRY.values(), key=lambda s: s.name)
    return [s for s in specs if modality is None or s.modality == modality]


# name prefix -> "module:function" that builds a spec for names that carry parameters
# (``llm:<model>?shots=5``); such specs are made on request and never stored in the registry
PREFIX_RESOLVERS: dict[str, str] = {"llm:": "affectlens.recognizers.llm:resolve_spec"}


def get_spec(name: str) -> RecognizerSpec:
    _load_plugins()
    if name in _REGISTRY:
        return _REGISTRY[name]
    for prefix, target in PREFIX_RESOLVERS.items():
        if name.startswith(prefix):
            module_name, _, attr = target.partition(":")
            resolver: Callable[[str], RecognizerSpec] = getattr(importlib.import_module(module_name), attr)
            return resolver(name)
    # a name without version picks the newest version of that model
    matches = sorted(n for n in _REGISTRY if n.rsplit(".", 1)[0] == name)
    if matches:
        return _REGISTRY[matches[-1]]
    known = ", ".join(sorted(_REGISTRY)) or "none"
    raise UnknownRecognizer(f"unknown model {name!r}; available: {known}")


def default_for(modality: Modality) -> RecognizerSpec:
    """The default of ``modality``: of the defaults whose required modules are installed, the most preferred
    (ties: name order); e.g. the Whisper speech model where its extra is installed, the log-mel model elsewhere."""
    specs = [s for s in available(modality) if s.default]
    if not specs:
        raise UnknownRecognizer(f"no default model for {modality.value}")
    usable = [s for s in specs if s.installed()] or specs  # none installed: the most preferred says what to add
    return max(usable, key=lambda s: s.preference)


def spec_or_default(name: str | None, modality: Modality) -> RecognizerSpec:
    """The spec registered as ``name``; ``modality``'s default (``default_for``) when no name is given."""
    return get_spec(name) if name else default_for(modality)


def load_recognizer(name: str, **params: Any) -> Recognizer:
    """Build the recognizer registered as ``name`` (weights load lazily on first use)."""
    return get_spec(name).build(**params)
