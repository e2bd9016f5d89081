"""The one data walker: every input shape becomes an ordered stream of ``EmotionResult``.

What counts as what (``plan_input``):

* a ``TextItem`` or a string that is not an existing path: one text;
* a string that *looks like a path* (it ends with a known file suffix, or it has a
  ``/`` or ``\\`` and no whitespace) but does not exist: ``InputNotFound``;
* a document file (``.txt``/``.text``/``.md``; later audio, image, video): ONE input,
  the whole file (a ``.txt`` file is one document, not one text per line);
* a table (``.csv``/``.tsv``/``.jsonl``/``.ndjson``/``.parquet``): one input per row of
  ``column``, streamed in chunks, ``id_column`` carried into ``record_id`` (default: the
  1-based row number);
* a folder: every supported document file below it (recursively, hidden files skipped,
  sorted by relative path; tables inside folders are not read), ``record_id`` = the
  relative path;
* any other iterable of strings / ``TextItem``: one input per element.

Items are batched (``batch_size``), each batch is split by modality and sent to the
recognizer for that modality, and results come back one per input, in input order.
A bad item (missing, empty or non-text cell, unreadable file) yields an empty
``EmotionResult`` whose warning names the row; it is never dropped and never stops the run.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import chain, islice
from pathlib import Path
from typing import Any

from affectlens.file_readers import FILE_TYPES as FILE_TYPES  # re-exported: readers live in affectlens.file_readers
from affectlens.file_readers import FileReader as FileReader
from affectlens.file_readers import FileType as FileType
from affectlens.file_readers import looks_like_path as looks_like_path
from affectlens.file_readers import register_file_type as register_file_type
from affectlens.file_readers import supported_suffixes as supported_suffixes
from affectlens.inputs import InputError, TextItem
from affectlens.io import EmptyInput, InputNotFound, UnsupportedInput
from affectlens.io.tables import TableReader, is_table
from affectlens.io.text_checks import EMPTY_TEXT, text_problem
from affectlens.io.walk import describe_skipped, list_files
from affectlens.options import DEFAULT_BATCH_SIZE as DEFAULT_BATCH_SIZE  # re-exported
from affectlens.options import AnalyzeOptions
from affectlens.protocols import Recognizer
from affectlens.recognizer_pool import AffectlensWarning as AffectlensWarning  # re-exported: recognizers per modality
from affectlens.recognizer_pool import MissingDependency as MissingDependency
from affectlens.recognizer_pool import NoRecognizer as NoRecognizer
from affectlens.recognizer_pool import RecognizerPool as RecognizerPool
from affectlens.streamed_items import stamp_segment, stream_opener, stream_result
from affectlens.taxonomy.results import check_label_set as check_label_set  # re-exported: the label-set mapping
from affectlens.taxonomy.results import closest_label as closest_label
from affectlens.taxonomy.results import map_result as map_result
from affectlens.types import EmotionResult, Modality, StreamedResult

# -- work items and input plans -----------------------------------------------------------------


@dataclass(frozen=True)
class WorkItem:
    """One input on its way to a recognizer; ``problem`` set means "yield an empty result"."""

    where: str  # names the input in warnings: "row 3 (id 'a7')", "file notes/a.txt", "text"
    modality: Modality
    payload: Any = None
    record_id: str | None = None
    source: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class ProgressUpdate:
    done: int  # inputs finished
    total: int | None  # inputs expected, when known (folder listing, parquet metadata)
    fraction: float | None  # share of the input consumed, when known (also by bytes for csv/jsonl)
    unit: str  # "rows", "files", "texts"


ProgressCallback = Callable[[ProgressUpdate], None]


@dataclass
class InputPlan:
    """What ``plan_input`` found: the items to analyse, lazily, and how to measure progress."""

    kind: str  # "text" | "file" | "folder" | "table" | "items"; planner: "dialogues" | "subtitles" | "media" | "words"
    items: Iterator[WorkItem]
    modalities: frozenset[Modality]
    unit: str = "texts"
    total: int | None = None
    fraction: Callable[[], float | None] | None = None

    @property
    def single(self) -> bool:
        """One input, one result (a text, a file, a subtitle file's dialogue, media fused with its words)."""
        return self.kind in ("text", "file", "subtitles", "media", "words")


def text_item(value: Any, where: str, record_id: str | None, source: str | None) -> WorkItem:
    """A cell / element as a text work item, or as a problem item that says what is wrong (public: the
    batch engine plans its table rows with it)."""
    if isinstance(value, TextItem):
        record_id = value.record_id if value.record_id is not None else record_id
        source = value.source or source
        value_text: Any = value.text
    else:
        value_text = value
    if value_text is None:
        return WorkItem(where, Modality.TEXT, None, record_id, source, "missing value")
    if not isinstance(value_text, str):
        wrong_type = f"expected text, got {type(value_text).__name__}"
        return WorkItem(where, Modality.TEXT, None, record_id, source, wrong_type)
    problem = text_problem(value_text)  # empty (also zero-width/NUL only) or invalid UTF-8
    if problem is not None:
        return WorkItem(where, Modality.TEXT, None, record_id, source, problem)
    if isinstance(value, TextItem):
        payload = replace(value, record_id=record_id, source=source)
    else:
        payload = TextItem(value_text, record_id=record_id, source=source)
    return WorkItem(where, Modality.TEXT, payload, record_id, source)


def _raise_for_single_text(item: WorkItem) -> None:
    """A single text that cannot be analysed is an error (a row or list element gets an empty result)."""
    if item.problem == EMPTY_TEXT:
        raise EmptyInput("empty input: the text is empty")
    if item.problem is not None:
        raise InputError(f"cannot analyse the text: {item.problem}")


def row_where(number: int, record_id: str | None, has_ids: bool) -> str:
    return f"row {number} (id {record_id!r})" if has_ids and record_id is not None else f"row {number}"


def _table_items(reader: TableReader) -> Iterator[WorkItem]:
    source = str(reader.path)
    has_ids = reader.id_column is not None
    for row in reader:
        record_id = row.record_id if has_ids else str(row.number)
        where = row_where(row.number, row.record_id, has_ids)
        if row.problem:
            yield WorkItem(where, Modality.TEXT, None, record_id, source, row.problem)
        else:
            yield text_item(row.value, where, record_id, source)


def file_item(path: Path, where: str, record_id: str | None, options: AnalyzeOptions | None = None) -> WorkItem:
    """One file of a collection as a work item; a file that cannot be read (or whose type no reader
    handles) is a problem item, never an error (public: the batch engine plans its files with it)."""
    file_type = FILE_TYPES.get(path.suffix.lower())
    if file_type is None:
        why = (f"unsupported file type {path.suffix.lower() or '(no suffix)'!r}; no reader/recognizer for it "
               f"(supported: {', '.join(supported_suffixes())})")
        return WorkItem(where, Modality.TEXT, None, record_id, str(path), why)
    try:
        payload = file_type.read_file(path, record_id, options)
    except InputError as exc:
        return WorkItem(where, file_type.modality, None, record_id, str(path), str(exc))
    return WorkItem(where, file_type.modality, payload, record_id, str(path))


def _list_folder(root: Path) -> tuple[list[Path], list[Path]]:
    """(supported files, skipped files) below ``root``, sorted (``io.walk``: links followed, loops cut).

    Entries the walk cannot use (broken links, loops, unreadable folders) are warned about here.
    """
    listing = list_files(root)
    if listing.skipped:
        warnings.warn(describe_skipped(listing.skipped, root), AffectlensWarning, stacklevel=4)
    supported: list[Path] = []
    skipped: list[Path] = []
    for path in listing.files:
        (supported if path.suffix.lower() in FILE_TYPES else skipped).append(path)
    return supported, skipped


def _peek(items: Iterator[WorkItem], empty_message: str) -> Iterator[WorkItem]:
    """Read the first item now so that an empty input fails before any output is written."""
    first = next(items, None)
    if first is None:
        raise EmptyInput(empty_message)
    return chain([first], items)


def plan_input(
    x: Any,
    options: AnalyzeOptions | None = None,
    *,
    column: str | None = None,
    id_column: str | None = None,
    chunk_rows: int | None = None,
) -> InputPlan:
    """Decide what ``x`` is and validate it now; the items themselves are produced lazily.

    ``options`` say how to read it (table columns, video sampling ...); ``column``,
    ``id_column`` and ``chunk_rows`` override them.  Raises ``InputNotFound``,
    ``UnsupportedInput``, ``EmptyInput``, ``MissingColumn`` or ``InputError`` with a one-line
    message.
    """
    options = (options or AnalyzeOptions()).with_changes(column=column, id_column=id_column, chunk_rows=chunk_rows)
    if isinstance(x, TextItem):
        item = text_item(x, "text", x.record_id, x.source)
        _raise_for_single_text(item)
        return InputPlan("text", iter([item]), frozenset({Modality.TEXT}))
    if isinstance(x, bytes):
        raise InputError("expected text (str), a path or a list of texts, got bytes; decode it first")
    if isinstance(x, str) and not os.path.exists(os.path.expanduser(x)) and not looks_like_path(x):
        item = text_item(x, "text", None, None)
        _raise_for_single_text(item)
        return InputPlan("text", iter([item]), frozenset({Modality.TEXT}))
    if isinstance(x, str | os.PathLike):
        return _plan_path(Path(os.path.expanduser(os.fspath(x))), options)
    if isinstance(x, Iterable):
        elements = (text_item(v, f"item {i + 1}", None, None) for i, v in enumerate(x))
        total = len(x) if isinstance(x, Sequence) else None
        return InputPlan("items", elements, frozenset({Modality.TEXT}), "texts", total)
    raise InputError(f"cannot analyse a {type(x).__name__}: pass a text, a path or a list of texts")


def _plan_path(path: Path, options: AnalyzeOptions) -> InputPlan:
    if not path.exists():
        raise InputNotFound(f"file not found: {path}")
    if path.is_dir():
        files, skipped = _list_folder(path)
        if not files:
            raise EmptyInput(
                f"empty input: no supported files in folder {path} "
                f"(supported: {', '.join(sorted(FILE_TYPES))})"
            )
        if skipped:
            kinds = ", ".join(sorted({p.suffix.lower() or p.name for p in skipped}))
            warnings.warn(
                f"skipped {len(skipped)} file(s) in {path} that are not documents ({kinds})",
                AffectlensWarning,
                stacklevel=3,
            )
        folder_items = (
            file_item(p, f"file {p.relative_to(path).as_posix()}", p.relative_to(path).as_posix(), options)
            for p in files
        )
        modalities = frozenset(FILE_TYPES[p.suffix.lower()].modality for p in files)
        return InputPlan("folder", folder_items, modalities, "files", len(files))
    if is_table(path):
        reader = TableReader(path, column=options.column, id_column=options.id_column, chunk_rows=options.chunk_rows)
        items = _peek(_table_items(reader), f"empty input: {path} has no rows")
        return InputPlan(
            "table", items, frozenset({Modality.TEXT}), "rows", reader.total_rows, reader.fraction_read
        )
    suffix = path.suffix.lower()
    if suffix not in FILE_TYPES:
        raise UnsupportedInput(
            f"unsupported file type {suffix or '(no suffix)'!r} for {path} "
            f"(supported: {', '.join(supported_suffixes())})"
        )
    file_type = FILE_TYPES[suffix]
    payload = file_type.read_file(path, None, options)  # a single file that cannot be read is an error
    item = WorkItem("file", file_type.modality, payload, None, str(path))
    return InputPlan("file", iter([item]), frozenset({file_type.modality}), "files", 1)


# -- the walk ------------------------------------------------------------------------------------


def _empty(item: WorkItem, problem: str) -> EmotionResult:
    return EmotionResult((), item.source, (f"{item.where}: {problem}",), item.record_id)


def _stamp(result: EmotionResult, item: WorkItem) -> EmotionResult:
    """Carry the input's id and source into the result and every segment the recognizer left blank."""
    return replace(
        result,
        segments=tuple(stamp_segment(s, item) for s in result.segments),
        source=result.source or item.source,
        record_id=result.record_id if result.record_id is not None else item.record_id,
    )


def _recognize(recognizer: Recognizer, items: Sequence[WorkItem]) -> list[EmotionResult]:
    """One result per item; an item that makes the recognizer fail gets an empty result."""
    payloads = [item.payload for item in items]
    try:
        results = recognizer.analyze(payloads)
    except Exception as batch_error:  # retry one by one: one bad input must not lose the batch
        results = []
        failures = 0
        for item in items:
            try:
                results.extend(recognizer.analyze([item.payload]))
            except Exception as exc:
                failures += 1
                results.append(_empty(item, f"{recognizer.name} failed: {type(exc).__name__}: {exc}"))
        if failures == len(items) > 1:
            raise batch_error  # every input fails: a broken recognizer, not bad data
    if len(results) != len(items):
        raise RuntimeError(
            f"recognizer {recognizer.name!r} returned {len(results)} results for {len(items)} inputs"
        )
    return [_stamp(r, item) for r, item in zip(results, items, strict=True)]


def analyze_items(
    items: Iterable[WorkItem],
    pool: RecognizerPool,
    *,
    labels: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> Iterator[EmotionResult]:
    """Batches ``items``, dispatches each batch by modality, yields results in input order."""
    return _collected(walk_items(items, pool, labels=labels, batch_size=batch_size, on_batch=on_batch))


def walk_items(
    items: Iterable[WorkItem],
    pool: RecognizerPool,
    *,
    labels: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
    stream_segments: bool = False,
    on_part: Callable[[float, float, str], None] | None = None,
) -> Iterator[EmotionResult | StreamedResult]:
    """``analyze_items``; with ``stream_segments`` a video or a long text comes as a ``StreamedResult`` (its
    segments as they are made, to be read before the next result is asked for), and ``on_part`` hears the
    share of that input done and how far it got (seconds of video, characters), as its segments are read."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    iterator = iter(items)
    while batch := list(islice(iterator, batch_size)):
        results: list[EmotionResult | StreamedResult | None] = [None] * len(batch)
        by_modality: dict[Modality, list[int]] = {}
        for position, item in enumerate(batch):
            if item.problem is not None:
                results[position] = _empty(item, item.problem)
            else:
                by_modality.setdefault(item.modality, []).append(position)
        for modality, positions in by_modality.items():
            if modality in pool.unavailable:
                for position in positions:
                    results[position] = _empty(batch[position], pool.unavailable[modality])
                continue
            recognizer = pool.get(modality)
            if stream_segments:
                for position in list(positions):
                    opener = stream_opener(recognizer, batch[position])
                    if opener is not None:
                        results[position] = stream_result(recognizer, batch[position], opener, labels, on_part)
                        positions.remove(position)
            recognized = _recognize(recognizer, [batch[p] for p in positions]) if positions else []
            for position, recognized_result in zip(positions, recognized, strict=True):
                results[position] = recognized_result
        for result in results:
            assert result is not None
            yield result if isinstance(result, StreamedResult) else map_result(result, labels)
        if on_batch is not None:
            on_batch(len(batch))


@dataclass
class Analysis:
    """A started analysis: what the input is (``plan``) and its results, lazily, in order."""

    plan: InputPlan
    results: Iterator[EmotionResult]
    details: Any = None  # the route's own state, e.g. the ``dialogue.analysis.DialogueRun``
    #: with ``AnalyzeOptions.stream_segments``: the same walk with videos as ``StreamedResult``s
    #: (read this or ``results``, not both)
    streamed: Iterator[EmotionResult | StreamedResult] | None = None


ModelChoice = str | Recognizer | Sequence[str | Recognizer] | None


def start_analysis(
    x: Any,
    *,
    model: ModelChoice = None,
    labels: str | None = None,
    column: str | None = None,
    id_column: str | None = None,
    batch_size: int | None = None,
    progress: ProgressCallback | None = None,
    options: AnalyzeOptions | None = None,
) -> Analysis:
    """Check everything that can be checked up front, then return the lazy result stream.

    Before this returns, the input exists and has the column, the label set and the model
    are known and the recognizers are loaded, so errors surface here, not halfway through
    the output.  ``options`` say how to read and analyse (``labels``, ``column``,
    ``id_column`` and ``batch_size`` override them); ``options.cues`` builds the text model
    with that cue method.
    """
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    options = (options or AnalyzeOptions()).with_changes(
        labels=labels, column=column, id_column=id_column, batch_size=batch_size
    )
    if options.labels is not None:
        check_label_set(options.labels)
    if options.cues is not None:
        from affectlens.recognizer_pool import text_model_with_cues

        model = text_model_with_cues(model, options.cues)
    pool = RecognizerPool(model)  # an unknown model name fails before the input is read
    plan = plan_input(x, options)
    pool.load_available(plan.modalities)
    walk = _walk(plan, pool, options.labels, options.batch_size, progress, options.stream_segments)
    return Analysis(plan, _collected(walk), streamed=walk if options.stream_segments else None)


def _collected(results: Iterator[EmotionResult | StreamedResult]) -> Iterator[EmotionResult]:
    """Every result whole (a streamed video read into its ``EmotionResult``)."""
    for result in results:
        yield result.collect() if isinstance(result, StreamedResult) else result


def iter_results(
    x: Any,
    *,
    model: ModelChoice = None,
    labels: str | None = None,
    column: str | None = None,
    id_column: str | None = None,
    batch_size: int | None = None,
    progress: ProgressCallback | None = None,
    options: AnalyzeOptions | None = None,
) -> Iterator[EmotionResult]:
    """Results for any input, one per input item, in order, streamed (see ``start_analysis``)."""
    return start_analysis(
        x,
        model=model,
        labels=labels,
        column=column,
        id_column=id_column,
        batch_size=batch_size,
        progress=progress,
        options=options,
    ).results


def _walk(
    plan: InputPlan,
    pool: RecognizerPool,
    labels: str | None,
    batch_size: int,
    progress: ProgressCallback | None,
    stream_segments: bool = False,
) -> Iterator[EmotionResult | StreamedResult]:
    done = 0

    def report(count: int) -> None:
        nonlocal done
        done += count
        if progress is None:
            return
        fraction = plan.fraction() if plan.fraction else None
        if fraction is None and plan.total:
            fraction = min(1.0, done / plan.total)
        progress(ProgressUpdate(done, plan.total, fraction, plan.unit))

    def report_part(part: float, amount: float, unit: str) -> None:  # a streamed input, between two items
        if progress is None:
            return
        if plan.single:  # one long input: its own seconds or characters are the progress (and the rate)
            progress(ProgressUpdate(int(amount), None, part, unit))
        elif plan.total:
            progress(ProgressUpdate(done, plan.total, min(1.0, (done + part) / plan.total), plan.unit))

    yield from walk_items(plan.items, pool, labels=labels, batch_size=batch_size, on_batch=report,
                          stream_segments=stream_segments, on_part=report_part)
