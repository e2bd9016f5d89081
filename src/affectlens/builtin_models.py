"""The recognizers shipped inside the package, registered at first registry use."""

from __future__ import annotations

from affectlens.registry import RecognizerSpec, register
from affectlens.types import Modality

register(RecognizerSpec(
    name="dummy.keywords.v1",
    modality=Modality.TEXT,
    label_set="ekman",
    factory="affectlens.testing:DummyRecognizer",
    description="Keyword matcher for tests and demos of the contract; not a model.",
    license="Apache-2.0",
    training_data="none",
    headline_metric="n/a",
))
