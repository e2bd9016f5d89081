"""The one suffix table: which file suffix is which kind of input, and how it is read.

Every reader (text documents, tables, audio, images, videos, dialogues, subtitles) takes its
suffixes from here, so a suffix such as ``.m4v`` means the same thing everywhere
(``tests/test_file_types.py`` checks that no other module writes its own suffix set).  This
module is light: it imports no reader; the readers in ``FILE_TYPES`` import theirs when called.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from affectlens.types import Modality

if TYPE_CHECKING:
    from affectlens.options import AnalyzeOptions

#: plain-text documents: one file is ONE text (``io.text``)
TEXT_SUFFIXES: tuple[str, ...] = (".txt", ".text", ".md")
#: tables: suffix -> format (``io.tables``, the batch engine, dialogue tables)
TABLE_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
TABLE_SUFFIXES: tuple[str, ...] = tuple(TABLE_FORMATS)
#: audio files: speech inputs (``audio.decode``)
AUDIO_SUFFIXES: tuple[str, ...] = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".aif",
                                   ".aiff", ".wma")
#: the audio files libsndfile reads block by block (others go through PyAV)
SOUNDFILE_SUFFIXES: frozenset[str] = frozenset({".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff"})
#: still images: face inputs (``vision.io``)
IMAGE_SUFFIXES: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})
#: videos: face inputs whose sampled frames stream through the face recognizer; their audio
#: track is what the fused (transcript) route and ``audio.decode.open_audio`` read
VIDEO_SUFFIXES: frozenset[str] = frozenset({".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v"})
#: subtitles: always read as one dialogue (``dialogue.io``), and a transcript beside a media file
SUBTITLE_SUFFIXES: tuple[str, ...] = (".srt", ".vtt")
#: a JSON file of dialogues (``dialogue.io.read_json_dialogues``)
DIALOGUE_JSON_SUFFIX = ".json"
#: everything ``dialogue.io.read_dialogues`` reads
DIALOGUE_SUFFIXES: tuple[str, ...] = (*TABLE_SUFFIXES, DIALOGUE_JSON_SUFFIX, *SUBTITLE_SUFFIXES)
#: media a transcript can be fused with (voice, and faces for videos)
MEDIA_SUFFIXES: frozenset[str] = frozenset(AUDIO_SUFFIXES) | VIDEO_SUFFIXES

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

#: suffixes that are clearly files even when no reader handles them (for "file not found")
_OTHER_FILE_SUFFIXES = frozenset(
    {".json", ".srt", ".vtt", ".gif", ".tif", ".tiff", ".xlsx", ".xls", ".pdf", ".docx", ".html", ".htm", ".xml",
     ".gz", ".zip"}
)


def register_file_type(suffixes: Iterable[str], modality: Modality, read: FileReader, *,
                       takes_options: bool = False) -> None:
    """Make files with these suffixes readable inputs of ``modality`` (e.g. ``.wav`` -> speech).

    ``read(path, record_id)``, or ``read(path, record_id, options)`` with ``takes_options``.
    """
    for suffix in suffixes:
        FILE_TYPES[suffix.lower()] = FileType(modality, read, takes_options)


def is_table(path: str | Path) -> bool:
    return Path(path).suffix.lower() in TABLE_FORMATS


def is_subtitles(path: str | Path) -> bool:
    return Path(path).suffix.lower() in SUBTITLE_SUFFIXES


def is_media(path: str | Path) -> bool:
    """An audio or video file (what a transcript can be fused with)."""
    return Path(path).suffix.lower() in MEDIA_SUFFIXES


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
