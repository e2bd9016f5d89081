"""Images and videos for the face recognizer: decoding, face detection, tracking, cues, drawing.

Why a separate package: the face recognizer needs four jobs that are useful on their own
(read an image with its EXIF orientation; stream a video's frames at a sampled rate without
holding the video in memory; find and crop faces offline; keep face ids across frames) and
each pulls a heavy library (Pillow, PyAV, OpenCV).  Every submodule imports those lazily,
inside functions, so ``import affectlens`` stays light and the ``vision`` extra is optional.
"""

from __future__ import annotations

from affectlens.file_types import IMAGE_SUFFIXES as IMAGE_SUFFIXES  # re-exported: the one suffix table
from affectlens.file_types import VIDEO_SUFFIXES as VIDEO_SUFFIXES

__all__ = ["IMAGE_SUFFIXES", "VIDEO_SUFFIXES"]
