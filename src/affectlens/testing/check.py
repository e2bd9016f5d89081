"""``check_recognizer``: the contract checks, like scikit-learn's ``check_estimator``.

Anything that passes it can be used by ``processing``, the CLI and the service.
"""

from __future__ import annotations

import builtins
import io
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from affectlens.inputs import TextItem
from affectlens.protocols import Recognizer
from affectlens.recognizer_params import check_params
from affectlens.testing.samples import SAMPLE_TEXTS, sample_inputs_for
from affectlens.types import EmotionResult, Modality, Provenance, Segment

HEAVY_MODULES = (
    "onnxruntime",
    "torch",
    "tensorflow",
    "cv2",
    "transformers",
    "sentence_transformers",
    "mediapipe",
    "librosa",
)
WEIGHT_SUFFIXES = frozenset(
    {
        ".onnx",
        ".ort",
        ".pt",
        ".pth",
        ".bin",
        ".safetensors",
        ".ckpt",
        ".h5",
        ".tflite",
        ".pb",
        ".pkl",
        ".joblib",
        ".npz",
        ".npy",
    }
)


class RecognizerCheckFailed(AssertionError):
    """``check_recognizer`` found contract violations; the message lists every one."""


@dataclass
class CheckReport:
    passed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def check_recognizer(
    recognizer: Recognizer,
    sample_inputs: Sequence[Any] | None = None,
    *,
    factory: Callable[[], Recognizer] | None = None,
) -> CheckReport:
    """Run every contract check on ``recognizer``; raise ``RecognizerCheckFailed`` listing failures.

    Checks: attributes; parameters (``get_params`` / ``with_params``: ``recognizer_params.check_params``);
    ``__init__`` imports no heavy library, opens no weight file and
    creates no onnxruntime session (a fresh instance must then analyze without ``load()``);
    ``load()`` twice is fine; ``analyze([]) == []``; one result per input, in order, the
    same in a batch as alone; scores cover exactly the label set, in [0, 1]; labels among
    the scores; confidence in [0, 1]; VAD in [-1, 1]; cues well-formed (spans inside the
    text); provenance = (name, version); empty / whitespace texts give an empty result
    with a warning; strict-JSON round trip (``from_json(to_json())`` serialises to the
    same JSON: equal up to the 4-decimal rounding of the JSON form); deterministic.

    ``sample_inputs`` are valid inputs of the recognizer's modality (default:
    ``sample_inputs_for(recognizer.modality)``).  ``factory`` builds a fresh instance
    (default: ``type(recognizer)()``) to check that construction loads no weights and
    that ``analyze`` works without an explicit ``load()``.
    """
    samples = list(sample_inputs) if sample_inputs is not None else sample_inputs_for(recognizer.modality)
    report = CheckReport()
    build = factory or _default_factory(recognizer)
    checks: list[tuple[str, Callable[[], str | None]]] = [
        ("attributes", lambda: _check_attributes(recognizer)),
        ("params", lambda: check_params(recognizer, samples)),
        ("init_does_not_load", lambda: _check_lazy_init(build)),
        ("load_is_idempotent", lambda: _check_load_twice(recognizer)),
        ("empty_batch", lambda: _check_empty_batch(recognizer)),
        ("results_well_formed", lambda: _check_results(recognizer, samples)),
        ("batch_order", lambda: _check_batch_order(recognizer, samples)),
        ("bad_items", lambda: _check_bad_items(recognizer, samples)),
        ("json_round_trip", lambda: _check_json(recognizer, samples)),
        ("deterministic", lambda: _check_deterministic(recognizer, samples)),
    ]
    for name, check in checks:
        try:
            skipped = check()
        except AssertionError as exc:
            report.failed[name] = str(exc) or "assertion failed"
        except Exception as exc:
            report.failed[name] = f"raised {type(exc).__name__}: {exc}"
        else:
            if skipped:
                report.skipped[name] = skipped
            else:
                report.passed.append(name)
    if report.failed:
        lines = "\n".join(f"  - {name}: {why}" for name, why in report.failed.items())
        raise RecognizerCheckFailed(
            f"{getattr(recognizer, 'name', recognizer)!r} fails {len(report.failed)} check(s):\n{lines}"
        )
    return report


def _default_factory(recognizer: Recognizer) -> Callable[[], Recognizer] | None:
    cls = type(recognizer)
    return lambda: cls()


def _check_attributes(rec: Recognizer) -> None:
    from affectlens.taxonomy import get_label_set

    for attr in ("name", "version", "label_set"):
        value = getattr(rec, attr, None)
        assert isinstance(value, str) and value, f"{attr} must be a non-empty str, got {value!r}"
    assert isinstance(rec.modality, Modality), f"modality must be a Modality, got {rec.modality!r}"
    assert rec.name.endswith(rec.version), f"name {rec.name!r} should end with its version {rec.version!r}"
    assert callable(getattr(rec, "load", None)) and callable(getattr(rec, "analyze", None)), (
        "load() and analyze() are required"
    )
    get_label_set(rec.label_set)  # raises for an unknown label set


def _check_lazy_init(build: Callable[[], Recognizer] | None) -> str | None:
    if build is None:
        return "no factory to build a fresh instance"
    before = set(sys.modules)
    opened: list[str] = []
    real_open = builtins.open

    def spy_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | Path):
            opened.append(str(file))
        return real_open(file, *args, **kwargs)

    builtins.open = spy_open
    io.open = spy_open  # pathlib opens through io.open
    sessions: list[str] = []
    ort = sys.modules.get("onnxruntime")
    real_session = getattr(ort, "InferenceSession", None)
    if ort is not None and real_session is not None:

        def spy_session(*args: Any, **kwargs: Any) -> Any:
            sessions.append(str(args[0]) if args else "?")
            return real_session(*args, **kwargs)

        setattr(ort, "InferenceSession", spy_session)  # noqa: B010
    started = time.perf_counter()
    try:
        try:
            fresh = build()
        except TypeError as exc:
            return f"cannot build a fresh instance without arguments ({exc}); pass factory="
    finally:
        builtins.open = real_open
        io.open = real_open
        if ort is not None and real_session is not None:
            setattr(ort, "InferenceSession", real_session)  # noqa: B010
    elapsed = time.perf_counter() - started
    heavy = sorted({m.split(".")[0] for m in set(sys.modules) - before} & set(HEAVY_MODULES))
    weights = [p for p in opened if Path(p).suffix.lower() in WEIGHT_SUFFIXES]
    assert not heavy, f"__init__ imported {', '.join(heavy)}: import heavy libraries in load()"
    assert not weights, f"__init__ opened weight files {weights}: load them in load()"
    assert not sessions, "__init__ created an onnxruntime session: create it in load()"
    assert elapsed < 1.0, f"__init__ took {elapsed:.2f} s: it should only store parameters"
    samples = sample_inputs_for(fresh.modality)[:1]
    if samples:  # analyze must load lazily when load() was never called
        assert len(fresh.analyze(samples)) == 1, "a fresh instance must analyze without an explicit load()"
    return None


def _check_load_twice(rec: Recognizer) -> None:
    rec.load()
    rec.load()


def _check_empty_batch(rec: Recognizer) -> None:
    out = rec.analyze([])
    assert out == [], f"analyze([]) must return [], got {out!r}"


def _check_results(rec: Recognizer, samples: Sequence[Any]) -> str | None:
    if not samples:
        return "no sample inputs"
    results = rec.analyze(list(samples))
    assert isinstance(results, list), f"analyze must return a list, got {type(results).__name__}"
    assert len(results) == len(samples), f"{len(results)} results for {len(samples)} inputs"
    labels = _labels_of(rec.label_set)
    for i, (sample, result) in enumerate(zip(samples, results, strict=True)):
        assert isinstance(result, EmotionResult), f"result {i} is a {type(result).__name__}"
        text = _text_of(sample)
        if rec.modality == Modality.TEXT:
            assert result.segments, f"result {i}: a valid text must give at least one segment"
        for seg in result.segments:
            _check_segment(rec, seg, labels, text, where=f"result {i}")
    return None


def _check_segment(
    rec: Recognizer, seg: Segment, labels: tuple[str, ...], text: str | None, where: str
) -> None:
    assert seg.modality == rec.modality, f"{where}: modality {seg.modality} != {rec.modality}"
    assert seg.label_set == rec.label_set, f"{where}: label_set {seg.label_set!r} != {rec.label_set!r}"
    assert set(seg.scores) == set(labels), (
        f"{where}: score keys differ from label set {rec.label_set!r}: "
        f"missing {sorted(set(labels) - set(seg.scores))}, extra {sorted(set(seg.scores) - set(labels))}"
    )
    for label, score in seg.scores.items():
        assert _finite(score) and 0.0 <= score <= 1.0, f"{where}: score {label}={score} outside [0, 1]"
    assert set(seg.labels) <= set(seg.scores), f"{where}: labels {seg.labels} not among the scores"
    assert _finite(seg.confidence) and 0.0 <= seg.confidence <= 1.0, (
        f"{where}: confidence {seg.confidence} outside [0, 1]"
    )
    if seg.vad is not None:
        for dim in ("valence", "arousal", "dominance"):
            value = getattr(seg.vad, dim)
            assert _finite(value) and -1.0 <= value <= 1.0, f"{where}: {dim}={value} outside [-1, 1]"
    assert seg.provenance == Provenance(rec.name, rec.version), (
        f"{where}: provenance {seg.provenance} != ({rec.name}, {rec.version})"
    )
    if text is not None and seg.text is not None:
        assert seg.text == text, f"{where}: segment text differs from the input (wrong order?)"
    cue_text = seg.text if seg.text is not None else text
    for cue in seg.cues:
        assert isinstance(cue.kind, str) and cue.kind, f"{where}: cue without kind: {cue}"
        assert isinstance(cue.phrase, str), f"{where}: cue phrase must be a str: {cue}"
        assert _finite(cue.weight), f"{where}: cue weight must be finite: {cue}"
        assert cue.label is None or cue.label in seg.scores, f"{where}: cue label {cue.label!r} unknown"
        if cue.span is not None:
            assert cue_text is not None, f"{where}: a cue has a span but the segment has no text"
            start, end = cue.span
            assert 0 <= start < end <= len(cue_text), (
                f"{where}: cue span {cue.span} outside the text (length {len(cue_text)})"
            )
        if cue.time is not None:
            assert cue.time[0] <= cue.time[1], f"{where}: cue time {cue.time} is reversed"
        if cue.region is not None:
            assert cue.region[2] >= 0 and cue.region[3] >= 0, f"{where}: cue region {cue.region} negative"


def _check_batch_order(rec: Recognizer, samples: Sequence[Any]) -> str | None:
    """A batch gives what the items give one by one, in the same order (loose: int8 kernels
    quantise activations per batch)."""
    if len(samples) < 2:
        return "needs at least two sample inputs"
    batched = rec.analyze(list(samples))
    for i, sample in enumerate(samples):
        alone = rec.analyze([sample])[0]
        assert len(alone.segments) == len(batched[i].segments), f"input {i}: segment count depends on batch"
        for a, b in zip(alone.segments, batched[i].segments, strict=True):
            worst = max((abs(a.scores[k] - b.scores.get(k, math.inf)) for k in a.scores), default=0.0)
            assert worst <= 0.05, f"input {i}: scores differ by {worst:.3f} between batch and single call"
    return None


def _check_bad_items(rec: Recognizer, samples: Sequence[Any]) -> str | None:
    if rec.modality not in (Modality.TEXT, Modality.DIALOGUE):
        return f"no generic bad inputs for {rec.modality.value}"
    good = samples[0] if samples else SAMPLE_TEXTS[0]
    bad = ["", "   ", "\n\t"]
    results = rec.analyze([good, *bad, good])
    assert len(results) == len(bad) + 2, "bad items must not change the number of results"
    for value, result in zip(bad, results[1:-1], strict=True):
        assert result.is_empty, f"{value!r} must give an empty result, got {len(result)} segment(s)"
        assert result.warnings, f"{value!r} must give a warning saying why the result is empty"
    assert not results[0].is_empty and not results[-1].is_empty, "good items next to bad ones must still work"
    return None


def _check_json(rec: Recognizer, samples: Sequence[Any]) -> None:
    for result in rec.analyze(list(samples[:3])):
        text = result.to_json()
        json.dumps(json.loads(text), allow_nan=False)  # strict JSON: no NaN / Infinity
        again = EmotionResult.from_json(text)
        assert again.to_json() == text, "from_json(to_json()) changes the result"
        assert again == EmotionResult.from_json(again.to_json()), "round trip is not stable"
        assert len(again) == len(result) and again.warnings == result.warnings


def _check_deterministic(rec: Recognizer, samples: Sequence[Any]) -> None:
    first = [r.to_json() for r in rec.analyze(list(samples))]
    second = [r.to_json() for r in rec.analyze(list(samples))]
    assert first == second, "the same input twice gives different results"


def _labels_of(label_set: str) -> tuple[str, ...]:
    from affectlens.taxonomy import get_label_set

    return tuple(get_label_set(label_set).labels)


def _text_of(sample: Any) -> str | None:
    if isinstance(sample, str):
        return sample
    if isinstance(sample, TextItem):
        return sample.text
    return None


def _finite(value: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
