"""How each file suffix of ``affectlens.file_types`` is read, and which recognizer gets it.

``processing`` dispatches by ``FILE_TYPES``; other readers plug in with ``register_file_type``.
The readers import their decoders when called, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from affectlens.file_types import (
    AUDIO_SUFFIXES,
    IMAGE_SUFFIXES,
    OTHER_FILE_SUFFIXES,
    TABLE_FORMATS,
    TEXT_SUFFIXES,
    VIDEO_SUFFIXES,
)
from affectlens.types import Modality

if TYPE_CHECKING:
    from affectlens.options import AnalyzeOptions

FileReader = Callable[..., Any]  # (path, record_id[, options]) -> the recognizer's input


@dataclass(frozen=True)
class FileType:
    modality: Modality
    read: FileReader  # raises InputError for a file it cannot read
    takes_options: bool = False  # read(path, record_id, options): a reader that samples (videos: fps, start, end)

    def read_file(self, path: Path, record_id: str | None, options: AnalyzeOptions | None = None) -> Any:
        """The file as the recognizer's input, read with ``options`` when the reader takes them."""
        if self.takes_options:
            return self.read(path, record_id, options)
        return self.read(path, record_id)


def _read_text(path: Path, record_id: str | None) -> Any:
    from affectlens.io.text import read_text_item

    return read_text_item(path, record_id=record_id)


def _read_audio(path: Path, record_id: str | None) -> Any:
    from affectlens.audio.decode import read_audio_item  # numpy only; decoders load when iterated

    return read_audio_item(path, record_id)


def _read_image(path: Path, record_id: str | None) -> Any:
    from affectlens.vision.io import read_image_item  # Pillow loads here, not at import

    return read_image_item(path, record_id)


def _read_video(path: Path, record_id: str | None, options: AnalyzeOptions | None = None) -> Any:
    from affectlens.vision.io import read_video_item  # PyAV; frames decode when iterated

    return read_video_item(path, record_id, options.video() if options is not None else None)


#: document suffix -> how to read it and which recognizer gets it (``processing`` dispatches by it);
#: other readers plug in with ``register_file_type``
FILE_TYPES: dict[str, FileType] = {s: FileType(Modality.TEXT, _read_text) for s in TEXT_SUFFIXES}
FILE_TYPES.update({s: FileType(Modality.SPEECH, _read_audio) for s in AUDIO_SUFFIXES})
FILE_TYPES.update({s: FileType(Modality.FACE, _read_image) for s in sorted(IMAGE_SUFFIXES)})
FILE_TYPES.update({s: FileType(Modality.FACE, _read_video, takes_options=True) for s in sorted(VIDEO_SUFFIXES)})

def register_file_type(suffixes: Iterable[str], modality: Modality, read: FileReader, *,
                       takes_options: bool = False) -> None:
    """Make files with these suffixes readable inputs of ``modality`` (e.g. ``.wav`` -> speech).

    ``read(path, record_id)``, or ``read(path, record_id, options)`` with ``takes_options``.
    """
    for suffix in suffixes:
        FILE_TYPES[suffix.lower()] = FileType(modality, read, takes_options)


def supported_suffixes() -> list[str]:
    return sorted(set(FILE_TYPES) | set(TABLE_FORMATS))


def looks_like_path(text: str) -> bool:
    """Whether a literal argument was probably meant as a path (see ``affectlens.processing``)."""
    candidate = text.strip()
    if not candidate or "\n" in candidate or len(candidate) > 1024:
        return False
    suffix = Path(candidate).suffix.lower()
    if suffix in FILE_TYPES or suffix in TABLE_FORMATS or suffix in OTHER_FILE_SUFFIXES:
        return True
    has_separator = "/" in candidate or "\\" in candidate
    return has_separator and not any(ch.isspace() for ch in candidate)
