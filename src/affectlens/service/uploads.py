"""Upload checks: content type, magic-byte sniffing, size, and a temp file that always goes away.

The client's file name is never used: an upload is copied to a fresh ``NamedTemporaryFile``
whose suffix comes from what the bytes ARE (sniffed), so the processing layer's file-type
dispatch (``processing.FILE_TYPES``) sees a trustworthy suffix and no request ever names a
path on this machine.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHUNK_BYTES = 1 << 20
SNIFF_BYTES = 4096
TEMP_PREFIX = "affectlens-upload-"


class UploadRejected(Exception):
    """An upload we refuse; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Sniffed:
    kind: str  # "audio" | "image" | "video" | "table"
    suffix: str  # the suffix processing dispatches on: ".wav", ".png", ".csv" ...
    what: str  # human name for messages: "WAV audio"


# (offset, magic bytes, kind, suffix, name); checked in order, first match wins
_SIGNATURES: tuple[tuple[int, bytes, str, str, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image", ".png", "PNG image"),
    (0, b"\xff\xd8\xff", "image", ".jpg", "JPEG image"),
    (0, b"GIF87a", "image", ".gif", "GIF image"),
    (0, b"GIF89a", "image", ".gif", "GIF image"),
    (0, b"II*\x00", "image", ".tif", "TIFF image"),
    (0, b"MM\x00*", "image", ".tif", "TIFF image"),
    (0, b"fLaC", "audio", ".flac", "FLAC audio"),
    (0, b"OggS", "audio", ".ogg", "Ogg audio"),
    (0, b"ID3", "audio", ".mp3", "MP3 audio"),
    (0, b"\x1a\x45\xdf\xa3", "video", ".mkv", "Matroska/WebM video"),
)

#: declared content types each kind accepts (besides application/octet-stream and none at all)
ACCEPTED_TYPES: dict[str, tuple[str, ...]] = {
    "audio": ("audio/",),
    "image": ("image/",),
    "video": ("video/", "application/x-matroska"),
    "table": (
        "text/csv", "text/tab-separated-values", "text/plain", "application/jsonl", "application/x-ndjson",
        "application/json", "application/csv", "application/vnd.ms-excel",  # what some browsers send for .csv
    ),
}
_GENERIC_TYPES = ("", "application/octet-stream", "binary/octet-stream")


def sniff(head: bytes) -> Sniffed | None:
    """What the first bytes of a file say it is (``None``: nothing we know)."""
    for offset, magic, kind, suffix, name in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            if suffix == ".mkv" and b"webm" in head[:64]:
                return Sniffed("video", ".webm", "WebM video")
            return Sniffed(kind, suffix, name)
    if head[:4] == b"RIFF" and len(head) >= 12:
        form = head[8:12]
        if form == b"WAVE":
            return Sniffed("audio", ".wav", "WAV audio")
        if form == b"WEBP":
            return Sniffed("image", ".webp", "WebP image")
        if form == b"AVI ":
            return Sniffed("video", ".avi", "AVI video")
    if head[:2] == b"BM" and len(head) >= 14:
        return Sniffed("image", ".bmp", "BMP image")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"M4A ", b"M4B "):
            return Sniffed("audio", ".m4a", "MP4 audio")
        if brand == b"qt  ":
            return Sniffed("video", ".mov", "QuickTime video")
        return Sniffed("video", ".mp4", "MP4 video")
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:  # MPEG audio frame sync
        return Sniffed("audio", ".mp3", "MP3 audio")
    return _sniff_table(head)


def _sniff_table(head: bytes) -> Sniffed | None:
    """UTF-8 text without NUL bytes: JSON lines when it starts with ``{``, else CSV/TSV."""
    if not head or b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # only a character cut at the sniff boundary is fine
            return None
        text = head[: exc.start].decode("utf-8-sig")
    stripped = text.lstrip()
    if not stripped:
        return None
    if stripped.startswith("{"):
        return Sniffed("table", ".jsonl", "JSON lines")
    first_line = stripped.splitlines()[0]
    if "\t" in first_line and "," not in first_line:
        return Sniffed("table", ".tsv", "TSV table")
    return Sniffed("table", ".csv", "CSV table")


def check_content_type(declared: str | None, kinds: tuple[str, ...]) -> None:
    """415 when the declared type belongs to none of ``kinds`` (generic types pass; sniffing decides)."""
    mime = (declared or "").split(";")[0].strip().lower()
    if mime in _GENERIC_TYPES:
        return
    for kind in kinds:
        if any(mime == t or (t.endswith("/") and mime.startswith(t)) for t in ACCEPTED_TYPES[kind]):
            return
    wanted = " or ".join(kinds)
    raise UploadRejected(415, f"content type {mime!r} is not accepted here (expected {wanted})")


def check_sniffed(head: bytes, declared: str | None, kinds: tuple[str, ...]) -> Sniffed:
    """What the upload really is, or 415 when its bytes are not one of ``kinds``."""
    found = sniff(head)
    wanted = " or ".join(kinds)
    if found is None:
        raise UploadRejected(415, f"the uploaded bytes are not a known {wanted} format")
    if found.kind not in kinds:
        raise UploadRejected(415, f"the upload is {found.what}, not {wanted}")
    mime = (declared or "").split(";")[0].strip().lower()
    if mime not in _GENERIC_TYPES and found.kind != "table":
        declared_kind = mime.split("/")[0]
        if declared_kind in ("audio", "image", "video") and declared_kind != found.kind:
            raise UploadRejected(415, f"declared {mime} but the bytes are {found.what}")
    return found


@dataclass(frozen=True)
class SavedUpload:
    path: Path
    sniffed: Sniffed
    size: int

    def scrub(self, text: str) -> str:
        """``text`` with the temp file's path hidden (for messages shown to the client)."""
        return text.replace(str(self.path), "upload")


async def save_upload(
    upload: Any, *, kinds: tuple[str, ...], max_bytes: int, temp_dir: Path | None
) -> SavedUpload:
    """Check and copy a starlette ``UploadFile`` to a new temp file (the caller deletes it).

    Raises ``UploadRejected`` (413 too large, 415 wrong type, 400 empty); on any error the
    temp file is already gone.
    """
    check_content_type(getattr(upload, "content_type", None), kinds)
    head = await upload.read(SNIFF_BYTES)
    if not head:
        raise UploadRejected(400, "the upload is empty")
    sniffed = check_sniffed(head, getattr(upload, "content_type", None), kinds)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed below; deleted by the caller)
        prefix=TEMP_PREFIX, suffix=sniffed.suffix, dir=temp_dir, delete=False)
    path = Path(handle.name)
    size = 0
    try:
        with handle:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRejected(413, f"upload larger than the limit of {max_bytes} bytes")
                handle.write(chunk)
                chunk = await upload.read(CHUNK_BYTES)
    except BaseException:
        remove_quietly(path)
        raise
    return SavedUpload(path, sniffed, size)


def remove_quietly(path: Path | str | None) -> None:
    if path is None:
        return
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


@contextmanager
def removed_after(path: Path) -> Iterator[Path]:
    try:
        yield path
    finally:
        remove_quietly(path)
