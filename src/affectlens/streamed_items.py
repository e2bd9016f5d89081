"""A long input's result handed on segment by segment (``AnalyzeOptions.stream_segments``).

The walk (``processing``) asks for this only when its caller writes as it goes (the CLI's file
formats): a video's segments (``FaceOnnxRecognizer.stream_video``) or a long text's windows
(``TextOnnxRecognizer.stream_document``, the document aggregate last) then flow from the
recognizer to the writer one by one, stamped with the input's id and source and mapped to the
asked label set on the way, so an hour of video or a text of any length runs in flat memory.
Form of the output: ``docs/schema.md``, "A video written as it is analysed".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from affectlens.inputs import TextItem
from affectlens.taxonomy.results import map_segment
from affectlens.types import Modality, Segment, StreamedResult

if TYPE_CHECKING:
    from affectlens.processing import WorkItem

#: the share of a video done is reported when it moved at least this much (a bar, not a log)
PART_STEP = 0.002


def stamp_segment(segment: Segment, item: WorkItem) -> Segment:
    """The input's id and source in a segment that the recognizer left them blank in."""
    if (segment.record_id is not None or item.record_id is None) and (segment.source or not item.source):
        return segment
    return replace(segment, record_id=segment.record_id if segment.record_id is not None else item.record_id,
                   source=segment.source or item.source)


def stream_opener(recognizer: Any, item: WorkItem) -> Callable[[Any], StreamedResult] | None:
    """How ``recognizer`` hands on ``item``'s segments as they come: ``stream_video`` for a video,
    ``stream_document`` for a text it reads as a long document; ``None`` for anything else."""
    payload = item.payload
    if item.modality is Modality.TEXT:
        if hasattr(recognizer, "stream_document") and isinstance(payload, TextItem) \
                and recognizer.is_long_text(payload.text):
            return recognizer.stream_document  # type: ignore[no-any-return]
        return None
    if item.modality is not Modality.FACE or not hasattr(recognizer, "stream_video"):
        return None
    from affectlens.vision.io import VideoFile

    return recognizer.stream_video if isinstance(payload, VideoFile) else None  # type: ignore[no-any-return]


def _video_span(video: Any) -> tuple[float, float] | None:
    """(first, last second) of the video that is analysed, when its length is known."""
    options = getattr(video, "options", None)
    start = getattr(options, "start", 0.0) or 0.0
    ends = [e for e in (getattr(options, "end", None), getattr(video, "duration", None)) if e is not None]
    return (start, min(ends)) if ends and min(ends) > start else None


def _progress(payload: Any) -> Callable[[Segment], tuple[float, float, str] | None]:
    """segment -> (share of the input done, how far it got, in what), when known."""
    if isinstance(payload, TextItem):  # a long text: by the characters its windows have reached
        length = max(1, len(payload.text))

        def by_text(segment: Segment) -> tuple[float, float, str] | None:
            span = segment.extras.get("span")
            return (min(1.0, span[1] / length), float(span[1]), "characters") \
                if span and "window" in segment.extras else None

        return by_text
    span = _video_span(payload)

    def by_time(segment: Segment) -> tuple[float, float, str] | None:
        if span is None or segment.end is None:
            return None
        return min(1.0, max(0.0, (segment.end - span[0]) / (span[1] - span[0]))), segment.end - span[0], "s of video"

    return by_time


def stream_result(recognizer: Any, item: WorkItem, open_stream: Callable[[Any], StreamedResult], labels: str | None,
                  on_part: Callable[[float, float, str], None] | None = None) -> StreamedResult:
    """``item``'s result (``open_stream``, from ``stream_opener``) with its segments stamped and mapped as
    they come; ``on_part`` hears the share
    of the input done and how far it got, in what ("s of video", "characters").  A failure halfway
    ends the stream with a warning: the segments before it are already written."""
    streamed = open_stream(item.payload)
    failure: list[str] = []
    progress = _progress(item.payload) if on_part is not None else None

    def segments() -> Iterator[Segment]:
        reported = 0.0
        try:
            for segment in streamed:
                yield map_segment(stamp_segment(segment, item), labels)
                done = progress(segment) if progress is not None else None
                if on_part is not None and done is not None and done[0] - reported >= PART_STEP:
                    on_part(*done)
                    reported = done[0]
        except Exception as exc:
            failure.append(f"{item.where}: {recognizer.name} failed: {type(exc).__name__}: {exc}")

    return StreamedResult(segments(), streamed.source or item.source, lambda: (*streamed.warnings, *failure),
                          streamed.record_id if streamed.record_id is not None else item.record_id)
