"""The recognizer for each modality an input needs (``RecognizerPool``), and the errors of finding one."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

from affectlens.protocols import Recognizer
from affectlens.registry import RecognizerSpec, UnknownRecognizer, available, default_for, get_spec, spec_or_default
from affectlens.types import Modality


class AffectlensWarning(UserWarning):
    """Something the user should know that does not stop the run (e.g. a fallback model)."""


class NoRecognizer(LookupError):
    """No recognizer can handle a modality the input needs."""

    def __str__(self) -> str:
        return str(self.args[0])


class MissingDependency(RuntimeError):
    """A recognizer needs a package (an extra) that is not installed."""


class RecognizerPool:
    """The recognizer for each modality: the one asked for, else the registry's default.

    Recognizers are built and loaded on first use, so a folder of text never loads a
    speech model.  ``model`` overrides the default for its own modality only.
    """

    def __init__(self, model: str | Recognizer | Sequence[str | Recognizer] | None = None) -> None:
        self._specs: dict[Modality, RecognizerSpec] = {}
        self._ready: dict[Modality, Recognizer] = {}
        #: modalities whose recognizer cannot be loaded here, with the reason (see ``load_available``)
        self.unavailable: dict[Modality, str] = {}
        chosen = [model] if isinstance(model, str) or not isinstance(model, Sequence) else list(model)
        for one in chosen:
            if one is None:
                continue
            if isinstance(one, str):
                spec = get_spec(one)  # UnknownRecognizer now, not halfway through a table
                self._specs[spec.modality] = spec
            elif callable(getattr(one, "analyze", None)) and isinstance(getattr(one, "modality", None), Modality):
                # what the walker needs; the whole contract (get_params, with_params) is check_recognizer's to prove
                self._ready[one.modality] = one
            else:
                raise TypeError(f"model must be a name or a Recognizer, got {type(one).__name__}")

    def spec_for(self, modality: Modality) -> RecognizerSpec | None:
        """The spec that will serve ``modality`` (``None`` when a Recognizer instance was given)."""
        if modality in self._ready and modality not in self._specs:
            return None
        if modality not in self._specs:
            self._specs[modality] = _default_spec(modality)
        return self._specs[modality]

    def get(self, modality: Modality) -> Recognizer:
        if modality not in self._ready:
            spec = self.spec_for(modality)
            assert spec is not None
            try:
                recognizer = spec.build()
                recognizer.load()
            except ImportError as exc:
                missing = exc.name or str(exc)
                raise MissingDependency(
                    f"model {spec.name!r} needs a package that is not installed "
                    f"({missing}); install the matching affectlens extra"
                ) from exc
            except FileNotFoundError as exc:  # registered, but its weights are not in place (yet)
                raise NoRecognizer(f"model {spec.name!r} cannot be used: {exc}") from exc
            self._ready[modality] = recognizer
        return self._ready[modality]

    def load_available(self, modalities: Iterable[Modality]) -> list[Recognizer]:
        """Load the recognizer of each modality an input needs, before any work.

        With one modality, a recognizer that cannot load is an error.  With several (a
        folder of text, audio and images), the input's other files are still worth
        analysing: the missing modality is recorded in ``unavailable``, warned about once,
        and each of its items gets an empty result that says why.  If none loads, the
        first error is raised.
        """
        wanted = sorted(set(modalities), key=lambda m: m.value)
        if len(wanted) <= 1:
            return [self.get(m) for m in wanted]
        loaded: list[Recognizer] = []
        first_error: Exception | None = None
        for modality in wanted:
            try:
                loaded.append(self.get(modality))
            except (NoRecognizer, MissingDependency) as exc:
                first_error = first_error or exc
                self.unavailable[modality] = str(exc)
                warnings.warn(
                    f"{modality.value} files are reported as errors: {exc}", AffectlensWarning, stacklevel=2
                )
        if not loaded and first_error is not None:
            raise first_error
        return loaded


def _default_spec(modality: Modality) -> RecognizerSpec:
    try:
        return default_for(modality)
    except UnknownRecognizer:
        candidates = available(modality)
        if not candidates:
            raise NoRecognizer(
                f"no recognizer for {modality.value} input is registered (see 'affectlens models')"
            ) from None
        chosen = candidates[0]
        warnings.warn(
            f"no default {modality.value} model is registered; using {chosen.name!r}"
            + (f" ({chosen.description})" if chosen.description else ""),
            AffectlensWarning,
            stacklevel=4,
        )
        return chosen


def text_model_with_cues(model: str | Recognizer | Sequence[str | Recognizer] | None, cues: str) -> Recognizer:
    """The text recognizer ``model`` (default: the default text model) built with the word-cue method
    ``cues``; ``UnsupportedOption`` when the model is not a registered text model that takes it."""
    from affectlens.options import UnsupportedOption
    from affectlens.registry import load_recognizer

    if model is not None and not isinstance(model, str):
        if isinstance(model, Sequence) or not hasattr(model, "with_params"):
            raise UnsupportedOption("cues: give the text model by its registered name, or build it with its cues")
        try:
            return model.with_params(cues=cues)  # type: ignore[no-any-return]
        except TypeError as err:  # UnknownParameter: the model takes no ``cues``
            raise UnsupportedOption(f"--cues {cues}: {type(model).__name__} has no such option") from err
    spec = spec_or_default(model, Modality.TEXT)
    if spec.modality is not Modality.TEXT:
        raise UnsupportedOption(f"--cues is for text models; {spec.name} reads {spec.modality.value}")
    try:
        return load_recognizer(spec.name).with_params(cues=cues)  # type: ignore[no-any-return]
    except TypeError as err:  # UnknownParameter: the model takes no ``cues``
        raise UnsupportedOption(f"--cues {cues}: {spec.name} has no such option") from err
