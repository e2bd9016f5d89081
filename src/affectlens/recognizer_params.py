"""A recognizer's parameters: ``get_params()`` and ``with_params(**changes)``, the contract's way to configure one.

Surfaces set options such as ``cues="occlusion"`` through ``with_params``, which returns a
configured copy and leaves the original alone, instead of rebuilding the recognizer by hand
or copying it and setting attributes.  ``RecognizerParams`` gives any class both methods:

* ``get_params()`` is the keyword arguments its constructor was called with, every default
  filled in (recorded when the instance is created, so it never depends on what ``load()``
  later set up);
* ``with_params(**changes)`` checks the names against the constructor's parameters (an
  unknown name raises ``UnknownParameter`` listing the valid ones), then builds a new
  instance with the parameters updated, so the constructor validates the values.  When
  every changed name is in the class's ``RUNTIME_PARAMS`` (parameters that only steer
  ``analyze``, such as how cues are computed, stored under their own name), the copy
  shares the original's loaded weights instead of loading them again.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

_R = TypeVar("_R", bound="RecognizerParams")


class UnknownParameter(TypeError):
    """``with_params`` was given a name the recognizer's constructor does not take.

    A ``TypeError``, as Python raises for an unexpected keyword argument.
    """


class RecognizerParams:
    """Mixin: ``get_params`` / ``with_params`` from the constructor's signature (see the module)."""

    #: constructor parameters that only steer ``analyze`` (stored under their own name): a copy
    #: that changes only these shares the loaded model
    RUNTIME_PARAMS: ClassVar[frozenset[str]] = frozenset()

    _init_params: dict[str, Any]

    def __new__(cls: type[_R], *args: Any, **kwargs: Any) -> _R:
        instance = super().__new__(cls)
        try:
            bound = inspect.signature(cls.__init__).bind(instance, *args, **kwargs)
        except TypeError:  # the constructor raises the same error, with Python's own message
            instance._init_params = {}
            return instance
        bound.apply_defaults()
        params: dict[str, Any] = {}
        for name, parameter in list(bound.signature.parameters.items())[1:]:  # without self
            if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                params.update(bound.arguments.get(name, {}))
            elif parameter.kind is not inspect.Parameter.VAR_POSITIONAL:
                params[name] = bound.arguments[name]
        instance._init_params = params
        return instance

    def get_params(self) -> dict[str, Any]:
        """The constructor's keyword arguments this instance was built with (defaults filled in)."""
        return dict(self._init_params)

    def with_params(self: _R, **changes: Any) -> _R:
        """A copy with ``changes`` applied; ``UnknownParameter`` for a name the constructor does not take."""
        params = self.get_params()
        unknown = sorted(set(changes) - set(params))
        if unknown:
            name = getattr(self, "name", type(self).__name__)
            raise UnknownParameter(
                f"{name} has no parameter {', '.join(map(repr, unknown))}; "
                f"its parameters: {', '.join(sorted(params)) or 'none'}")
        fresh = type(self)(**{**params, **changes})
        if not set(changes) <= self.RUNTIME_PARAMS:
            return fresh
        variant = copy.copy(self)  # shares the loaded model: only analysis settings differ
        variant._init_params = fresh.get_params()
        for name in changes:
            setattr(variant, name, getattr(fresh, name))
        return variant


def check_params(recognizer: Any, sample_inputs: Sequence[Any] = ()) -> None:
    """Assert the parameter contract (``check_recognizer`` runs it): ``get_params`` is a dict of names;
    ``with_params()`` is a new object of the same type with the same parameters and the same results on
    ``sample_inputs[:1]``; an unknown name raises a ``TypeError`` naming the valid ones; the original is
    left unchanged."""
    for method in ("get_params", "with_params"):
        assert callable(getattr(recognizer, method, None)), (
            f"{method}() is required (inherit affectlens.recognizer_params.RecognizerParams)")
    params = recognizer.get_params()
    assert isinstance(params, dict) and all(isinstance(k, str) for k in params), (
        f"get_params() must return a dict of parameter names, got {params!r}")
    variant = recognizer.with_params()
    assert variant is not recognizer and type(variant) is type(recognizer), (
        "with_params() must return a new instance of the same type")
    assert _same(variant.get_params(), params), "with_params() without changes must keep every parameter"
    try:
        recognizer.with_params(no_such_parameter_=1)
    except TypeError as exc:
        named = [name for name in params if name in str(exc)]
        assert named or not params, f"the error for an unknown parameter must list the valid ones: {exc}"
    else:
        raise AssertionError("with_params(no_such_parameter_=1) must raise a TypeError")
    assert _same(recognizer.get_params(), params), "with_params() must leave the original unchanged"
    samples = list(sample_inputs)[:1]
    if samples:
        ours, theirs = recognizer.analyze(samples), variant.analyze(samples)
        assert [r.to_json() for r in ours] == [r.to_json() for r in theirs], (
            "a with_params() copy without changes must give the same results")


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal parameter dicts; values that do not compare to one bool (arrays) must be the same object."""
    if a.keys() != b.keys():
        return False
    for key, value in a.items():
        other = b[key]
        if value is other:
            continue
        try:
            if not bool(value == other):
                return False
        except (TypeError, ValueError):
            return False
    return True


__all__ = ["RecognizerParams", "UnknownParameter", "check_params"]
