"""The library façade: ``analyze`` anything, get ``EmotionResult``s back.

One input -> one ``EmotionResult``; many inputs -> an iterator of them, one per input,
in input order, streamed (wrap it in ``list()`` to keep them all)::

    import affectlens

    result = affectlens.analyze("I can't believe you did this, I'm so proud of you!")
    result.segments[0].labels                      # ('admiration', 'pride') with the text model
    for r in affectlens.analyze("reviews.csv", column="body", id_column="review_id"):
        print(r.record_id, r.segments[0].top_label if r.segments else r.warnings)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any, Literal, overload

from affectlens.inputs import TextItem
from affectlens.processing import (
    DEFAULT_BATCH_SIZE,
    ModelChoice,
    ProgressCallback,
    iter_results,
    start_analysis,
)
from affectlens.types import EmotionResult

__all__ = ["analyze", "analyze_iter"]


@overload
def analyze(
    x: str | os.PathLike[str],
    *,
    words: Literal[True],
    model: str | None = ...,
    labels: str | None = ...,
) -> EmotionResult: ...


@overload
def analyze(
    x: TextItem,
    *,
    model: ModelChoice = ...,
    labels: str | None = ...,
    column: str | None = ...,
    id_column: str | None = ...,
    batch_size: int = ...,
    progress: ProgressCallback | None = ...,
) -> EmotionResult: ...


@overload
def analyze(
    x: list[str] | list[TextItem] | tuple[str, ...],
    *,
    model: ModelChoice = ...,
    labels: str | None = ...,
    column: str | None = ...,
    id_column: str | None = ...,
    batch_size: int = ...,
    progress: ProgressCallback | None = ...,
) -> Iterator[EmotionResult]: ...


@overload
def analyze(
    x: str | os.PathLike[str] | Iterable[str | TextItem],
    *,
    model: ModelChoice = ...,
    labels: str | None = ...,
    column: str | None = ...,
    id_column: str | None = ...,
    batch_size: int = ...,
    progress: ProgressCallback | None = ...,
) -> EmotionResult | Iterator[EmotionResult]: ...


def analyze(
    x: Any,
    *,
    model: ModelChoice = None,
    labels: str | None = None,
    column: str | None = None,
    id_column: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    words: bool = False,
) -> EmotionResult | Iterator[EmotionResult]:
    """Analyse a text, a document file, a folder, a table or a list of texts.

    Returns ONE ``EmotionResult`` for a single input (a text, a ``TextItem``, a document
    file such as ``.txt``) and an ITERATOR of ``EmotionResult`` for a collection (a table
    ``.csv/.tsv/.jsonl/.parquet``, a folder, a list of texts), lazily, one per row/file/
    element in input order.  A string is a path when it exists; a string that does not
    exist but looks like a path (known file suffix, or a slash and no spaces) raises
    ``InputNotFound``; any other string is the text itself.

    ``model``: a registered name (``affectlens models``) or a ``Recognizer``; default: the
    registry's default for the input's modality.  ``labels``: express results in another
    label set (``taxonomy.convert_scores``; VAD kept).  ``column`` / ``id_column``: the
    table column with the inputs (default: the only column, or ``text``) and the one with
    record ids (default: the row number).  ``progress`` receives ``ProgressUpdate``s.
    ``words=True`` (one audio/video file, the ``whisper`` extra): per speech segment the
    words with their times, the voice emotion (``model``: a speech recognizer's name), the
    words' text emotion and their fusion with a disagreement score
    (``fusion.speech_words``).

    Errors in the input (missing file, unknown column/model/label set) raise before any
    result is produced; a bad row only gives an empty result with a warning.
    """
    if words:  # one recording: words, voice and text emotion fused per speech segment
        return _analyze_words(x, model, labels)
    analysis = start_analysis(
        x,
        model=model,
        labels=labels,
        column=column,
        id_column=id_column,
        batch_size=batch_size,
        progress=progress,
    )
    if analysis.plan.single:
        return next(analysis.results)
    return analysis.results


def _analyze_words(x: Any, model: ModelChoice, labels: str | None) -> EmotionResult:
    from affectlens.fusion.speech_words import analyze_speech_with_words
    from affectlens.processing import check_label_set, map_result
    from affectlens.registry import load_recognizer

    if not isinstance(x, str | os.PathLike):
        raise TypeError("words=True takes one audio or video file")
    if model is not None and not isinstance(model, str):
        raise TypeError("words=True: model is the speech recognizer's registered name")
    if labels:
        check_label_set(labels)
    speech = load_recognizer(model) if model else None
    return map_result(analyze_speech_with_words(os.fspath(x), speech=speech), labels)


def analyze_iter(
    x: Any,
    *,
    model: ModelChoice = None,
    labels: str | None = None,
    column: str | None = None,
    id_column: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
) -> Iterator[EmotionResult]:
    """Like ``analyze`` but always an iterator (also for a single input)."""
    return iter_results(
        x,
        model=model,
        labels=labels,
        column=column,
        id_column=id_column,
        batch_size=batch_size,
        progress=progress,
    )
