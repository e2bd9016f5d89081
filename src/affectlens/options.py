"""``AnalyzeOptions``: how to read and analyse an input, passed explicitly through the processing layer.

One frozen object instead of module-level state: the planner reads ``column``/``id_column``
for tables, the video reader ``fps``/``start``/``end``, the walker ``batch_size`` and
``labels``, the text recognizer ``cues``; the fused route (media + transcript) the
``transcript``/``asr_model``.  The CLI, the library, the service and the batch engine build
one and hand it down; nothing reads it from a global.  Light: imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from affectlens.vision.io import VideoOptions

DEFAULT_BATCH_SIZE = 64
DEFAULT_CHUNK_ROWS = 10_000


class UnsupportedOption(ValueError):
    """An option the chosen input route or model cannot honour (refused, never silently ignored)."""


@dataclass(frozen=True)
class AnalyzeOptions:
    """Every knob of one analysis; ``None`` means "the default" (of the reader or the model)."""

    # tables
    column: str | None = None  # the column with the inputs (default: the only column, or "text")
    id_column: str | None = None  # the column with record ids (default: the row number)
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    # the walk
    batch_size: int = DEFAULT_BATCH_SIZE
    labels: str | None = None  # express results in this label set
    # a video's segments handed on as they come (``types.StreamedResult``), for writers that write as
    # they go (the CLI): flat memory over long videos; off: one ``EmotionResult`` per input
    stream_segments: bool = False
    # videos
    fps: float | None = None  # sampled frames per second (default: vision.io.DEFAULT_FPS)
    start: float | None = None  # seconds
    end: float | None = None
    # text recognizers
    cues: str | None = None  # word-cue method ("decomposition" | "occlusion"); None: the model's own
    # what the input is read as
    as_text: bool = False  # a string is the text even if it names a file
    dialogue: bool = False  # a table or JSON file holds dialogues (dialogue_id, speaker, text)
    transcript: Path | None = None  # media + this .srt/.vtt: text, voice and faces fused per turn
    asr_model: Path | None = None  # media without a transcript: a local faster-whisper directory
    find_transcript: bool = True  # media with a .srt/.vtt beside it takes the fused route
    # media: words (ASR), voice and text emotion per speech segment; None: on for a lone audio file where
    # multilingual Whisper is installed (``planner.words_by_default``), off elsewhere
    words: bool | None = None
    # dialogues
    support: bool = False  # also suggest the supporter's next strategy per turn
    supporter: str | None = None  # who the supporter is (implies support)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, got {self.chunk_rows}")

    def video(self) -> VideoOptions:
        """How to sample videos (validated here: a bad fps/start/end is an ``InputError``)."""
        from affectlens.vision.io import DEFAULT_FPS, VideoOptions

        return VideoOptions(self.fps if self.fps is not None else DEFAULT_FPS, self.start or 0.0, self.end)

    @property
    def samples_video(self) -> bool:
        """Whether a video option was set (so that a route which has no video can refuse it)."""
        return self.fps is not None or self.start is not None or self.end is not None

    def with_changes(self, **changes: Any) -> AnalyzeOptions:
        """A copy with ``changes`` (``None`` values left out: they mean "keep")."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown analysis option(s): {', '.join(sorted(unknown))}")
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_CHUNK_ROWS", "AnalyzeOptions", "UnsupportedOption"]
