"""File types: a file's suffix -> the modality it is and how to read it (``processing`` dispatches by it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from affectlens.audio.decode import AUDIO_SUFFIXES as AUDIO_FILE_SUFFIXES
from affectlens.inputs import TextItem
from affectlens.io.tables import TABLE_FORMATS
from affectlens.io.text import TEXT_SUFFIXES, read_text_item
from affectlens.types import Modality
from affectlens.vision import IMAGE_SUFFIXES, VIDEO_SUFFIXES

FileReader = Callable[[Path, str | None], Any]  # (path, record_id) -> the recognizer's input


@dataclass(frozen=True)
class FileType:
    modality: Modality
    read: FileReader  # raises InputError for a file it cannot read


def _read_text(path: Path, record_id: str | None) -> TextItem:
    return read_text_item(path, record_id=record_id)


#: document suffix -> how to read it and which recognizer gets it.  Audio, image and video
#: readers plug in here with ``register_file_type`` (nothing else changes).
FILE_TYPES: dict[str, FileType] = {s: FileType(Modality.TEXT, _read_text) for s in TEXT_SUFFIXES}


def _read_audio(path: Path, record_id: str | None) -> Any:
    from affectlens.audio.decode import read_audio_item  # numpy only; decoders load when iterated

    return read_audio_item(path, record_id)


# audio files are speech inputs, decoded lazily in chunks (see ``affectlens.audio``)
FILE_TYPES.update({s: FileType(Modality.SPEECH, _read_audio) for s in AUDIO_FILE_SUFFIXES})


def _read_image(path: Path, record_id: str | None) -> Any:
    from affectlens.vision.io import read_image_item  # Pillow loads here, not at import

    return read_image_item(path, record_id)


def _read_video(path: Path, record_id: str | None) -> Any:
    from affectlens.vision.io import read_video_item  # PyAV; frames decode when iterated

    return read_video_item(path, record_id)


# images and videos are face inputs (see ``affectlens.vision``); a video is one input whose
# sampled frames stream through the face recognizer
FILE_TYPES.update({s: FileType(Modality.FACE, _read_image) for s in IMAGE_SUFFIXES})
FILE_TYPES.update({s: FileType(Modality.FACE, _read_video) for s in VIDEO_SUFFIXES})

#: suffixes that are clearly files even when no reader handles them (for "file not found")
_OTHER_FILE_SUFFIXES = frozenset(
    {
        ".json",
        ".wav",
        ".mp3",
        ".flac",
        ".ogg",
        ".m4a",
        ".opus",
        ".jpg",
        ".jpeg",
        ".png",
        ".bmp",
        ".webp",
        ".gif",
        ".tif",
        ".tiff",
        ".mp4",
        ".avi",
        ".mov",
        ".mkv",
        ".webm",
        ".xlsx",
        ".xls",
        ".pdf",
        ".docx",
        ".html",
        ".htm",
        ".xml",
        ".gz",
        ".zip",
    }
)


def register_file_type(suffixes: Iterable[str], modality: Modality, read: FileReader) -> None:
    """Make files with these suffixes readable inputs of ``modality`` (e.g. ``.wav`` -> speech)."""
    for suffix in suffixes:
        FILE_TYPES[suffix.lower()] = FileType(modality, read)


def supported_suffixes() -> list[str]:
    return sorted(set(FILE_TYPES) | set(TABLE_FORMATS))


def looks_like_path(text: str) -> bool:
    """Whether a literal argument was probably meant as a path (see ``affectlens.processing``)."""
    candidate = text.strip()
    if not candidate or "\n" in candidate or len(candidate) > 1024:
        return False
    suffix = Path(candidate).suffix.lower()
    if suffix in FILE_TYPES or suffix in TABLE_FORMATS or suffix in _OTHER_FILE_SUFFIXES:
        return True
    has_separator = "/" in candidate or "\\" in candidate
    return has_separator and not any(ch.isspace() for ch in candidate)
