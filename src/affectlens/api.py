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
from pathlib import Path
from typing import Any, Literal, overload

from affectlens import planner
from affectlens.inputs import TextItem
from affectlens.options import DEFAULT_BATCH_SIZE, AnalyzeOptions
from affectlens.processing import ModelChoice, ProgressCallback
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
    options: AnalyzeOptions | None = ...,
    **more_options: Any,
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
    words: bool | None = None,
    options: AnalyzeOptions | None = None,
    **more_options: Any,
) -> EmotionResult | Iterator[EmotionResult]:
    """Analyse anything ``affectlens analyze`` takes: a text, a document, audio, image or video file,
    a folder, a table, a list of texts, dialogues (``.srt``/``.vtt``, or a table/JSON with
    ``dialogue=True``), media with its transcript.

    Returns ONE ``EmotionResult`` for a single input (a text, a ``TextItem``, one file, a
    subtitle file's dialogue, media fused with its transcript or words) and an ITERATOR of
    ``EmotionResult`` for a collection (a table ``.csv/.tsv/.jsonl/.parquet``, a folder, a list
    of texts, a table of dialogues), lazily, one per row/file/element/dialogue in input order.
    A string is a path when it exists; a string that does not exist but looks like a path
    (known file suffix, or a slash and no spaces) raises ``InputNotFound``; any other string
    is the text itself.  The result is the same as the CLI's for the same input and options.

    ``model``: a registered name (``affectlens models``) or a ``Recognizer``; default: the
    registry's default for the input's modality.  ``labels``: express results in another
    label set (``taxonomy.convert_scores``; VAD kept).  ``column`` / ``id_column``: the
    table column with the inputs (default: the only column, or ``text``) and the one with
    record ids (default: the row number).  ``progress`` receives ``ProgressUpdate``s.
    ``words=True`` (one audio/video file, the ``whisper`` extra): per speech segment the
    words with their times, the voice emotion, the words' text emotion and their fusion with
    a disagreement score (``fusion.speech_words``).  ``words=None`` (default) does this for a
    lone audio file wherever multilingual Whisper base is installed (``planner.words_by_default``);
    ``words=False`` keeps the voice timeline alone.  Any other ``AnalyzeOptions`` field may be
    given by name (``fps=2``, ``start=10``, ``end=70``, ``cues="occlusion"``, ``dialogue=True``,
    ``transcript="clip.srt"``, ``asr_model=...``, ``support=True``) or as ``options``.

    Errors in the input (missing file, unknown column/model/label set, an option the input's
    route cannot honour) raise before any result is produced; a bad row only gives an empty
    result with a warning.
    """
    analysis = planner.start(
        x,
        _options(options, labels=labels, column=column, id_column=id_column, batch_size=batch_size, words=words,
                 **more_options),
        model=model,
        progress=progress,
    )
    return planner.results_of(analysis)


def _options(options: AnalyzeOptions | None, **changes: Any) -> AnalyzeOptions:
    """``options`` with the keyword arguments that differ from their defaults laid over them."""
    for path_option in ("transcript", "asr_model"):
        if changes.get(path_option) is not None:
            changes[path_option] = Path(os.fspath(changes[path_option]))
    defaults = AnalyzeOptions()
    set_here = {k: v for k, v in changes.items() if not hasattr(defaults, k) or v != getattr(defaults, k)}
    return (options or defaults).with_changes(**set_here)


def analyze_iter(
    x: Any,
    *,
    model: ModelChoice = None,
    labels: str | None = None,
    column: str | None = None,
    id_column: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    options: AnalyzeOptions | None = None,
    **more_options: Any,
) -> Iterator[EmotionResult]:
    """Like ``analyze`` but always an iterator (also for a single input)."""
    return planner.start(
        x,
        _options(options, labels=labels, column=column, id_column=id_column, batch_size=batch_size, **more_options),
        model=model,
        progress=progress,
    ).results
