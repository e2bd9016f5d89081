"""Per-track summaries of a video's face segments: one row per tracked face (``--tracks PATH``).

A video result holds one segment per face per sampled frame, each with its ``track_id``;
researchers then want one row per person: when the face was seen, how often, its mean
scores and dominant expression, and its mean valence/arousal.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.types import EmotionResult, Segment


def track_summaries(segments: Iterable[Segment]) -> list[dict[str, Any]]:
    """One row per (source, track id), in order of first appearance; untracked segments are skipped."""
    groups: dict[tuple[str, int], list[Segment]] = {}
    for seg in segments:
        if seg.track_id is not None:
            groups.setdefault((seg.source or "", seg.track_id), []).append(seg)
    rows: list[dict[str, Any]] = []
    for (source, track), segs in groups.items():
        labels = list(segs[0].scores)
        mean = {label: float(np.mean([s.scores.get(label, 0.0) for s in segs])) for label in labels}
        top = max(mean, key=lambda k: mean[k])
        tops = [s.top_label for s in segs]
        vads = [s.vad for s in segs if s.vad is not None]
        starts = [s.start for s in segs if s.start is not None]
        ends = [s.end if s.end is not None else s.start for s in segs]
        rows.append({
            "source": source,
            "track_id": track,
            "first_seen": min(starts, default=None),
            "last_seen": max((e for e in ends if e is not None), default=None),
            "faces": len(segs),
            "label_set": segs[0].label_set,
            "top_label": top,
            "top_label_mean_score": round(mean[top], 4),
            "top_label_share": round(tops.count(top) / len(tops), 4),
            "valence": round(float(np.mean([v.valence for v in vads])), 4) if vads else None,
            "arousal": round(float(np.mean([v.arousal for v in vads])), 4) if vads else None,
            "mean_scores": {label: round(value, 4) for label, value in mean.items()},
        })
    return rows


def write_track_summaries(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """``.csv`` (one ``score_<label>`` column per label), else JSON (a list of rows)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        labels = list(rows[0]["mean_scores"]) if rows else []
        flat = [{**{k: v for k, v in row.items() if k != "mean_scores"},
                 **{f"score_{label}": row["mean_scores"].get(label) for label in labels}} for row in rows]
        with path.open("w", encoding="utf-8", newline="") as handle:
            columns = list(flat[0]) if flat else ["source", "track_id", "faces", "top_label"]
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(flat)
    else:
        path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return path


@dataclass
class TrackCollector:
    """Keeps the tracked face segments flowing past, to summarise them per track afterwards."""

    segments: list[Segment] = field(default_factory=list)

    def watch(self, results: Iterable[EmotionResult]) -> Iterator[EmotionResult]:
        for result in results:
            self.segments.extend(s for s in result.segments if s.track_id is not None)
            yield result

    def save(self, path: str | Path) -> int:
        rows = track_summaries(self.segments)
        write_track_summaries(rows, path)
        return len(rows)


__all__ = ["TrackCollector", "track_summaries", "write_track_summaries"]
