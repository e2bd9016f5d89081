"""The one suffix table: which file suffix is which kind of input, and how it is read.

Every reader (text documents, tables, audio, images, videos, dialogues, subtitles) takes its
suffixes from here, so a suffix such as ``.m4v`` means the same thing everywhere
(``tests/test_file_types.py`` checks that no other module writes its own suffix set).  This
module is data only and imports no reader: ``file_readers`` maps each suffix to its reader.
"""

from __future__ import annotations

from pathlib import Path

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

#: suffixes that are clearly files even when no reader handles them (for "file not found")
OTHER_FILE_SUFFIXES = frozenset(
    {".json", ".srt", ".vtt", ".gif", ".tif", ".tiff", ".xlsx", ".xls", ".pdf", ".docx", ".html", ".htm", ".xml",
     ".gz", ".zip"}
)


def is_table(path: str | Path) -> bool:
    return Path(path).suffix.lower() in TABLE_FORMATS


def is_subtitles(path: str | Path) -> bool:
    return Path(path).suffix.lower() in SUBTITLE_SUFFIXES


def is_media(path: str | Path) -> bool:
    """An audio or video file (what a transcript can be fused with)."""
    return Path(path).suffix.lower() in MEDIA_SUFFIXES
