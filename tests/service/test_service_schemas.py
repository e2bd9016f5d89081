"""The service's result models (``service/schemas.py``, what ``/openapi.json`` shows) match ``types.py``
field by field: names, types and which fields may be missing, so the two cannot drift apart."""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import BaseModel

from affectlens.service import schemas
from affectlens.types import VAD, Cue, EmotionResult, Modality, Provenance, Segment

#: each result dataclass and the pydantic model that documents its JSON
MODELS: dict[type, type[BaseModel]] = {
    VAD: schemas.VADModel, Cue: schemas.CueModel, Provenance: schemas.ProvenanceModel,
    Segment: schemas.SegmentModel, EmotionResult: schemas.ResultModel,
}


def _shape(annotation: Any) -> Any:
    """A comparable description of a type as it appears in JSON: tuples and lists are lists, mappings
    are dicts, enums are strings, result dataclasses are their pydantic models."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return ("union", frozenset(_shape(a) for a in args))
    if origin in (tuple, list):
        items = {_shape(a) for a in args if a is not Ellipsis}
        assert len(items) == 1, f"a JSON array holds one type: {annotation!r}"
        return ("list", items.pop())
    if origin in (dict, Mapping):
        return ("dict", _shape(args[0]), _shape(args[1]))
    if annotation is type(None):
        return "null"
    if annotation is Any:
        return "any"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "str"
    if annotation in MODELS:
        return MODELS[annotation].__name__
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    assert annotation in (str, int, float, bool), f"no JSON shape for {annotation!r}"
    return annotation.__name__


def _nullable(shape: Any) -> Any:
    members = shape[1] if isinstance(shape, tuple) and shape[0] == "union" else frozenset([shape])
    return ("union", members | {"null"})


def _full_result() -> EmotionResult:
    """Every optional field set, so ``to_dict`` writes every key it can."""
    cue = Cue("word", "happy", 0.5, "joy", span=(5, 10), time=(0.0, 1.0), region=(1, 2, 3, 4), turn=0, value=1.0)
    segment = Segment(Modality.TEXT, "ekman", {"joy": 1.0}, ("joy",), VAD(0.5, 0.5, 0.0), 1.0,
                      Provenance("x", "v1"), (cue,), "a.txt", "I am happy", 0.0, 1.0, 2, "Ann", 3, "r1",
                      {"note": 1})
    return EmotionResult((segment,), "a.txt", ("w",), "r1")


def _minimal_result() -> EmotionResult:
    """No optional field set, so ``to_dict`` writes only the keys it always writes."""
    segment = Segment(Modality.TEXT, "ekman", {"joy": 1.0}, ("joy",), None, 1.0, Provenance("x", "v1"),
                      (Cue("word", "happy", 0.5),))
    return EmotionResult((segment,))


def _json_objects(result: EmotionResult) -> dict[type, dict[str, Any]]:
    data = result.to_dict()
    segment = data["segments"][0]
    return {EmotionResult: data, Segment: segment, Cue: segment["cues"][0],
            Provenance: segment["provenance"], VAD: segment["vad"] or {"valence": 0, "arousal": 0, "dominance": 0}}


@pytest.mark.parametrize("cls", list(MODELS), ids=lambda c: c.__name__)
def test_model_has_the_fields_that_to_dict_writes(cls: type) -> None:
    model = MODELS[cls]
    written = set(_json_objects(_full_result())[cls])
    assert set(model.model_fields) == written
    assert {f.name for f in dataclasses.fields(cls)} <= written  # and every dataclass field is written


@pytest.mark.parametrize("cls", list(MODELS), ids=lambda c: c.__name__)
def test_model_requires_exactly_the_keys_that_are_always_written(cls: type) -> None:
    model = MODELS[cls]
    always = set(_json_objects(_minimal_result())[cls])
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert required == always


@pytest.mark.parametrize("cls", list(MODELS), ids=lambda c: c.__name__)
def test_model_field_types_match_the_dataclass(cls: type) -> None:
    model = MODELS[cls]
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        declared = _shape(model.model_fields[field.name].annotation)
        expected = _shape(hints[field.name])
        optional = not model.model_fields[field.name].is_required()
        # a field left out of the JSON when unset may also be documented as nullable
        allowed = {expected, _nullable(expected)} if optional else {expected}
        assert declared in allowed, f"{model.__name__}.{field.name}: {declared} != {expected}"


def test_a_full_result_validates_against_the_models() -> None:
    data = _full_result().to_dict()
    assert schemas.ResultModel.model_validate(data).model_dump(exclude_none=True) == data


def test_scrubbed_results_hide_the_temp_file_through_the_dataclass() -> None:
    from affectlens.service.jobs import scrubbed

    result = _full_result()
    result = dataclasses.replace(result, source="/tmp/up-1.wav", warnings=("cannot read /tmp/up-1.wav",))
    data = scrubbed(result, lambda text: text.replace("/tmp/up-1.wav", "upload")).to_dict()
    assert data["source"] is None and data["warnings"] == ["cannot read upload"]
    assert all("source" not in segment for segment in data["segments"])
    assert schemas.ResultModel.model_validate(data).record_id == "r1"
