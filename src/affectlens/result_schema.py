"""The flat forms of one result, derived from ``types.py`` in one place.

``types.Segment`` is the one result model; its JSON form is ``Segment.to_dict``.  The two
flat forms are defined here, and every writer uses them:

* **flat rows** (``segment_row`` / ``result_rows``): dicts of scalars, one per segment,
  for CSV (``output.write_csv``) and ``records_frame``;
* **Arrow columns** (``arrow_schema`` / ``segment_arrays``): for Parquet, written by
  ``affectlens analyze --format parquet`` (``output.write_parquet``) and by the batch
  engine's shards (``batch.engine.build_table``).

How each ``Segment`` field becomes columns (``docs/schema.md``, "Flat forms"):

* the optional scalar fields (``source``, ``text``, ``start``, ``end``, ``turn``,
  ``speaker``, ``track_id``, ``record_id``) are one column each; their Arrow type is read
  from the dataclass annotation (``str`` -> string, ``float`` -> float64, ``int`` -> int64);
* ``modality`` and ``label_set`` are strings; ``top_label`` is derived (``Segment.top_label``);
* ``scores`` -> one ``score_<label>`` column per label, ``vad`` -> ``valence``, ``arousal``,
  ``dominance``; with ``confidence`` these are float32 in Arrow (probabilities and
  [-1, 1] values: float32 halves the width of a 28-label table and keeps 7 digits);
* ``labels`` -> a list of strings in Arrow, joined with ``;`` in flat rows;
* ``cues`` -> the ``FLAT_CUES`` strongest cues by |weight|: a list of
  ``{kind, phrase, label, weight}`` structs in Arrow, their phrases joined with ``; `` in flat
  rows (the full cues, with spans, times and regions, are in the JSON form);
* ``provenance`` -> ``recognizer`` (``name@version``);
* ``extras`` stays in the JSON form only (recognizer-specific, no fixed columns).

A test (``tests/test_result_schema.py``) fails when a ``Segment`` field has no rule here.
pyarrow is imported only inside the Arrow functions.
"""

from __future__ import annotations

import functools
import math
import typing
from collections.abc import Iterator, Sequence
from dataclasses import fields
from typing import Any

from affectlens.types import Cue, EmotionResult, Segment, StreamedResult

#: cues kept per segment in the flat forms (the strongest by |weight|)
FLAT_CUES = 3

#: the optional scalar fields of ``Segment``, one column each (type from the annotation)
SCALAR_FIELDS: tuple[str, ...] = ("record_id", "source", "start", "end", "turn", "speaker", "track_id", "text")
#: Segment fields that the flat forms leave to the JSON form
JSON_ONLY_FIELDS: tuple[str, ...] = ("extras",)
VAD_COLUMNS: tuple[str, ...] = ("valence", "arousal", "dominance")
SCORE_PREFIX = "score_"


def _column_order(label_names: Sequence[str]) -> list[tuple[str, str]]:
    """(column, rule) in output order; rule names how the column is made (see the module doc)."""
    return [
        ("record_id", "scalar"), ("source", "scalar"), ("modality", "string"), ("start", "scalar"),
        ("end", "scalar"), ("turn", "scalar"), ("speaker", "scalar"), ("track_id", "scalar"),
        ("text", "scalar"), ("label_set", "string"), ("labels", "labels"), ("top_label", "string"),
        ("confidence", "float"), *[(SCORE_PREFIX + label, "score") for label in label_names],
        *[(name, "vad") for name in VAD_COLUMNS], ("cues", "cues"), ("recognizer", "string"),
    ]


def segment_columns(label_names: Sequence[str] = ()) -> list[str]:
    """The segment's columns in order (the same in flat rows and in Arrow)."""
    return [name for name, _ in _column_order(label_names)]


#: which ``Segment`` field each column comes from (for the coverage test and the docs)
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    **{name: (name,) for name in SCALAR_FIELDS},
    "modality": ("modality",), "label_set": ("label_set",), "labels": ("labels",),
    "scores": ("score_<label>", "top_label"), "vad": VAD_COLUMNS, "confidence": ("confidence",),
    "cues": ("cues",), "provenance": ("recognizer",),
}


def strongest_cues(segment: Segment, limit: int = FLAT_CUES) -> list[Cue]:
    return sorted(segment.cues, key=lambda c: -abs(c.weight))[:limit]


def recognizer_id(segment: Segment) -> str:
    return f"{segment.provenance.recognizer}@{segment.provenance.version}"


# -- flat rows (CSV) -----------------------------------------------------------------------------


def segment_row(seg: Segment, n_cues: int = FLAT_CUES) -> dict[str, Any]:
    """One flat row: scalars only (scores rounded to 4 decimals as in the JSON; no VAD -> NaN)."""
    row: dict[str, Any] = {
        "record_id": seg.record_id, "source": seg.source, "modality": seg.modality.value,
        "start": seg.start, "end": seg.end, "turn": seg.turn, "speaker": seg.speaker,
        "track_id": seg.track_id, "text": seg.text, "label_set": seg.label_set,
        "labels": ";".join(seg.labels), "top_label": seg.top_label,
        "confidence": round(float(seg.confidence), 4),
    }
    for label, score in seg.scores.items():
        row[SCORE_PREFIX + label] = round(float(score), 4)
    vad = seg.vad
    for name in VAD_COLUMNS:
        row[name] = getattr(vad, name) if vad else math.nan
    row["cues"] = "; ".join(c.phrase for c in strongest_cues(seg, n_cues))
    row["recognizer"] = recognizer_id(seg)
    return row


def result_rows(result: EmotionResult) -> list[dict[str, Any]]:
    """Flat rows for one result, each with its ``warnings``; one placeholder row when it has no segment
    (its id, source and warnings), so an input never silently disappears from a flat output."""
    return list(iter_result_rows(result))


def iter_result_rows(result: EmotionResult | StreamedResult) -> Iterator[dict[str, Any]]:
    """``result_rows`` as they come.  A ``StreamedResult`` (a video written as it is analysed) knows its
    warnings only at its end: its segment rows have an empty ``warnings``, and its warnings, if any, come
    in a last placeholder row."""
    streamed = isinstance(result, StreamedResult)
    warnings = "" if streamed else "; ".join(result.warnings)
    count = 0
    for seg in result:
        row = segment_row(seg)
        if row.get("record_id") is None:
            row["record_id"] = result.record_id
        row["warnings"] = warnings
        count += 1
        yield row
    if count == 0 or (streamed and result.warnings):
        yield {"record_id": result.record_id, "source": result.source, "warnings": "; ".join(result.warnings)}


def records_frame(results: Sequence[EmotionResult]) -> Any:
    """A pandas DataFrame of the results' flat rows (needs pandas)."""
    import pandas as pd

    return pd.DataFrame([row for result in results for row in result_rows(result)])


# -- Arrow ---------------------------------------------------------------------------------------


@functools.cache
def _scalar_arrow_type(name: str) -> Any:
    """The Arrow type of an optional scalar field, read from its annotation in ``types.Segment``."""
    import pyarrow as pa

    hint = typing.get_type_hints(Segment)[name]
    base = {a for a in typing.get_args(hint) if a is not type(None)}
    if base == {str}:
        return pa.string()
    if base == {float}:
        return pa.float64()
    if base == {int}:
        return pa.int64()
    raise TypeError(f"Segment.{name}: no Arrow type for {hint!r}")  # a new kind of field needs a rule here


def cue_struct_type() -> Any:
    import pyarrow as pa

    return pa.struct([("kind", pa.string()), ("phrase", pa.string()), ("label", pa.string()),
                      ("weight", pa.float32())])


def _arrow_type(name: str, rule: str) -> Any:
    import pyarrow as pa

    if rule == "scalar":
        return _scalar_arrow_type(name)
    if rule in ("float", "score", "vad"):
        return pa.float32()
    if rule == "labels":
        return pa.list_(pa.string())
    if rule == "cues":
        return pa.list_(cue_struct_type())
    return pa.string()


def arrow_fields(label_names: Sequence[str], *, exclude: Sequence[str] = ()) -> list[Any]:
    """The segment's Arrow fields in ``segment_columns`` order, without ``exclude``."""
    import pyarrow as pa

    return [pa.field(name, _arrow_type(name, rule)) for name, rule in _column_order(label_names)
            if name not in exclude]


def segment_arrays(
    segments: Sequence[Segment | None], label_names: Sequence[str], *, exclude: Sequence[str] = ()
) -> dict[str, Any]:
    """Arrow arrays (``arrow_fields`` order) for rows of segments; ``None`` is a row of nulls
    (an input that gave no segment).  Scores of labels outside ``label_names`` are dropped."""
    import numpy as np
    import pyarrow as pa

    label_names = tuple(label_names)
    n = len(segments)
    label_index = {label: i for i, label in enumerate(label_names)}
    # float64 here so that the bulk argmax below picks what ``Segment.top_label`` picks; float32 on output
    scores = np.full((n, len(label_names)), np.nan, dtype=np.float64)
    in_order = np.zeros(n, dtype=bool)  # the row's scores are label_names in order: its top label is the argmax
    floats = {name: np.full(n, np.nan, dtype=np.float64 if name in ("start", "end") else np.float32)
              for name in ("start", "end", "confidence", *VAD_COLUMNS)}
    objects: dict[str, list[Any]] = {name: [None] * n for name in (
        "record_id", "source", "modality", "turn", "speaker", "track_id", "text", "label_set", "labels",
        "top_label", "cues", "recognizer")}
    for r, seg in enumerate(segments):
        if seg is None:
            continue
        if tuple(seg.scores) == label_names:  # the common case: one bulk copy
            scores[r] = tuple(seg.scores.values())
            in_order[r] = True
        else:
            for label, value in seg.scores.items():
                column = label_index.get(label)
                if column is not None:
                    scores[r, column] = value
        if seg.vad is not None:
            for name in VAD_COLUMNS:
                floats[name][r] = getattr(seg.vad, name)
        floats["confidence"][r] = seg.confidence
        for name in ("start", "end"):
            value = getattr(seg, name)
            if value is not None:
                floats[name][r] = value
        for name in ("record_id", "source", "turn", "speaker", "track_id", "text", "label_set"):
            objects[name][r] = getattr(seg, name)
        objects["modality"][r] = seg.modality.value
        objects["labels"][r] = list(seg.labels)
        if not in_order[r]:
            objects["top_label"][r] = seg.top_label
        objects["cues"][r] = [{"kind": c.kind, "phrase": c.phrase, "label": c.label, "weight": c.weight}
                              for c in strongest_cues(seg)]
        objects["recognizer"][r] = recognizer_id(seg)
    if in_order.any():  # the first highest score, as ``Segment.top_label``, for all those rows at once
        best = np.argmax(scores[in_order], axis=1).tolist()
        for r, column in zip(np.flatnonzero(in_order).tolist(), best, strict=True):
            objects["top_label"][r] = label_names[column]
    arrays: dict[str, Any] = {}
    for name, rule in _column_order(label_names):
        if name in exclude:
            continue
        kind = _arrow_type(name, rule)
        if rule == "score":
            values = np.ascontiguousarray(scores[:, label_index[name[len(SCORE_PREFIX):]]], dtype=np.float32)
            arrays[name] = pa.array(values, type=kind, mask=np.isnan(values))
        elif name in floats:
            arrays[name] = pa.array(floats[name], type=kind, mask=np.isnan(floats[name]))
        else:
            arrays[name] = pa.array(objects[name], type=kind)
    return arrays


def covered_fields() -> set[str]:
    """The ``Segment`` fields that have a rule here or are left to JSON (the test compares with types.py)."""
    return set(FIELD_COLUMNS) | set(JSON_ONLY_FIELDS)


def segment_field_names() -> set[str]:
    return {f.name for f in fields(Segment)}
