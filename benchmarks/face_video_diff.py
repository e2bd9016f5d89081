"""Compare two JSON outputs of ``affectlens analyze video.mp4 -f json`` (before / after a change).

Usage::

    python benchmarks/face_video_diff.py before.json after.json

Segments are paired by (frame, track id, box); for each pair: the same top label?  the
largest score difference; the same occlusion-cue phrases (``face_region``) and the same
action-unit-like cue phrases; the same strongest region cue; the mean and largest
difference of a region cue's weight present in both.  As the yardstick, it also measures
how much the *before* output's region cues change from one sampled frame of a track to the
next.  Prints a JSON summary; the labels that changed are listed with their frame.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any


def segments(path: Path) -> dict[tuple[Any, ...], dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for result in data["results"]:
        for seg in result["segments"]:
            extras = seg.get("extras", {})
            out[(extras.get("frame"), seg.get("track_id"), tuple(extras.get("box", ())))] = seg
    return out


def cue_map(seg: dict[str, Any], kind: str) -> dict[str, float]:
    return {c["phrase"].rsplit(" ", 1)[0] if kind == "action_unit" else c["phrase"]: float(c["weight"])
            for c in seg.get("cues", []) if c["kind"] == kind}


def compare(before: dict[tuple[Any, ...], dict[str, Any]], after: dict[tuple[Any, ...], dict[str, Any]]
            ) -> dict[str, Any]:
    shared = sorted(set(before) & set(after), key=lambda k: (k[0] or 0, k[1] or 0))
    changed_labels = []
    score_diff = weight_diff = 0.0
    same_region = same_au = same_main = 0
    weight_diffs: list[float] = []
    region_only_before = region_only_after = 0
    for key in shared:
        b, a = before[key], after[key]
        if b["labels"] != a["labels"]:
            changed_labels.append({"frame": key[0], "track": key[1], "before": b["labels"], "after": a["labels"]})
        score_diff = max(score_diff, *(abs(b["scores"][k] - a["scores"][k]) for k in b["scores"]))
        rb, ra = cue_map(b, "face_region"), cue_map(a, "face_region")
        same_region += set(rb) == set(ra)
        region_only_before += len(set(rb) - set(ra))
        region_only_after += len(set(ra) - set(rb))
        same_main += next(iter(rb), None) == next(iter(ra), None)  # cues come strongest first
        for phrase in set(rb) & set(ra):
            weight_diffs.append(abs(rb[phrase] - ra[phrase]))
            weight_diff = max(weight_diff, weight_diffs[-1])
        same_au += cue_map(b, "action_unit") == cue_map(a, "action_unit")
    return {
        "segments_before": len(before), "segments_after": len(after), "paired": len(shared),
        "top_label_changed": len(changed_labels), "max_score_difference": round(score_diff, 4),
        "same_region_cue_phrases": same_region, "region_cues_only_before": region_only_before,
        "region_cues_only_after": region_only_after, "same_strongest_region_cue": same_main,
        "mean_region_cue_weight_difference": round(sum(weight_diffs) / max(1, len(weight_diffs)), 4),
        "max_region_cue_weight_difference": round(weight_diff, 4),
        "same_action_unit_cues": same_au, "labels_changed": changed_labels[:20],
    }


def frame_to_frame(segs: dict[tuple[Any, ...], dict[str, Any]]) -> dict[str, Any]:
    """How much one output's region cues change between consecutive sampled frames of a track:
    the yardstick for a before/after difference (a change within it is within the cues' own jitter)."""
    tracks: dict[Any, list[dict[str, Any]]] = {}
    for key in sorted(segs, key=lambda k: (k[1] or 0, k[0] or 0)):
        tracks.setdefault(key[1], []).append(segs[key])
    pairs = same = 0
    changes: list[float] = []
    for frames in tracks.values():
        for a, b in itertools.pairwise(frames):
            ra, rb = cue_map(a, "face_region"), cue_map(b, "face_region")
            pairs += 1
            same += next(iter(ra), None) == next(iter(rb), None)
            changes.extend(abs(ra[p] - rb[p]) for p in set(ra) & set(rb))
    return {"consecutive_pairs": pairs, "same_strongest_region_cue": same,
            "mean_region_cue_weight_change": round(sum(changes) / max(1, len(changes)), 4),
            "max_region_cue_weight_change": round(max(changes, default=0.0), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    before, after = segments(args.before), segments(args.after)
    report = compare(before, after)
    report["before_frame_to_frame"] = frame_to_frame(before)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
