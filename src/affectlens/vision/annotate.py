"""Draw a face result onto its image: boxes, track ids, top emotion and the main cue.

Why here and not in the CLI: ``--annotate out.jpg`` and the library share it, and it needs
OpenCV (lazy).  For a video, the frame drawn is the sampled frame with the most faces (the
first such one); only the faces of that frame are drawn.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from affectlens.types import EmotionResult, Modality, Segment

_COLORS = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240)]


def _main_cue(segment: Segment) -> str:
    if not segment.cues:
        return ""
    return max(segment.cues, key=lambda c: abs(c.weight)).phrase


def draw_faces(rgb: np.ndarray, segments: Iterable[Segment]) -> np.ndarray:
    """A copy of ``rgb`` with one box, label and main cue per face segment (``extras['box']``)."""
    import cv2

    canvas = np.ascontiguousarray(rgb.copy())
    scale = max(0.4, min(canvas.shape[:2]) / 700)
    thickness = max(1, round(2 * scale))
    for n, seg in enumerate(segments):
        box = seg.extras.get("box") if seg.extras else None
        if not box:
            continue
        x, y, w, h = (int(v) for v in box)
        color = _COLORS[(seg.track_id if seg.track_id is not None else n) % len(_COLORS)]
        cv2.rectangle(canvas, (x, y), (x + w, y + h), color, thickness)
        top = seg.top_label
        who = f"[{seg.track_id}] " if seg.track_id is not None else ""  # Hershey fonts have no "#"
        lines = [f"{who}{top} {seg.scores.get(top, 0.0):.2f}"]
        cue = _main_cue(seg)
        if cue:
            lines.append(cue)
        for i, text in enumerate(lines):
            size = 0.6 * scale if i == 0 else 0.45 * scale
            (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, size, thickness)
            above = y > 40 * scale * len(lines)
            ty = y - 6 - (len(lines) - 1 - i) * int(th + 8) if above else y + h + (i + 1) * int(th + 8)
            cv2.rectangle(canvas, (x, ty - th - 4), (x + tw + 4, ty + 4), color, -1)
            cv2.putText(canvas, text, (x + 2, ty), cv2.FONT_HERSHEY_SIMPLEX, size, (255, 255, 255), thickness,
                        cv2.LINE_AA)
    return canvas


def save_rgb(rgb: np.ndarray, path: str | Path) -> Path:
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path)
    return path


def annotate_result(result: EmotionResult, path: str | Path) -> Path | None:
    """Draw ``result`` (an image or a video source) into ``path``; ``None`` when it has no face."""
    faces = [s for s in result.segments if s.modality == Modality.FACE]
    if not faces or not result.source:
        return None
    from affectlens.file_types import VIDEO_SUFFIXES
    from affectlens.vision.io import load_image, open_video

    source = Path(result.source)
    if source.suffix.lower() not in VIDEO_SUFFIXES:
        return save_rgb(draw_faces(load_image(source).pixels, faces), path)
    by_frame: dict[object, list[Segment]] = {}
    for seg in faces:
        by_frame.setdefault(seg.extras.get("frame", seg.start), []).append(seg)
    frame_key, chosen = max(by_frame.items(), key=lambda kv: len(kv[1]))
    for frame in open_video(source).frames():
        if frame.frame_index == frame_key or (frame_key == frame.time):
            return save_rgb(draw_faces(frame.pixels, chosen), path)
    return None


@dataclass
class AnnotateCollector:
    """Passes results through and remembers the first one with faces, to draw it afterwards."""

    first: EmotionResult | None = None
    seen: int = field(default=0)

    def watch(self, results: Iterable[EmotionResult]) -> Iterator[EmotionResult]:
        for result in results:
            self.seen += 1
            if self.first is None and any(s.modality == Modality.FACE for s in result.segments):
                self.first = result
            yield result

    def save(self, path: str | Path) -> Path | None:
        return annotate_result(self.first, path) if self.first is not None else None


__all__ = ["AnnotateCollector", "annotate_result", "draw_faces", "save_rgb"]
