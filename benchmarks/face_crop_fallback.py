"""Face crops the detector misses, read whole: how many images get a face, how right, and no false faces.

Usage::

    python benchmarks/face_crop_fallback.py [--data ../shared/datasets] [--model face.ferplus-wild-fusion.v5]

What a user gets from ``affectlens analyze`` on a folder of face crops: every image through
``FaceOnnxRecognizer.analyze`` with the default detector (BlazeFace + mesh check).  An image
where no face is detected but that is face-crop sized is read as one face when the mesh model
finds a face in it as a crop (``extras["whole_image"]``; ``vision.face_analysis.looks_like_a_face_crop``).
Prints, per set, how many images got a detected face, a whole-image face or none, and the
top-label accuracy of each group against the gold label:

* FER+ valid (official split, majority of the FER+ votes; 48x48 grayscale crops);
* faces_in_the_wild (all 3,124 photos, 160x160; labels on the FER+ scale);
* non-faces: the plain background and shirt corners of the London portraits (200 px squares at
  48/160/300 px), blurred noise and stripes (160 px): every face found there is a false face.

No training, no tuning: the rule's constants were set before this was run.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

import numpy as np


def _read(recognizer: Any, images: list[np.ndarray]) -> list[Any]:
    from affectlens.inputs import ImageFrame

    results: list[Any] = []
    for start in range(0, len(images), 64):
        results.extend(recognizer.analyze([ImageFrame(np.ascontiguousarray(im)) for im in images[start : start + 64]]))
    return results


def _summary(results: list[Any], gold: np.ndarray | None, labels: tuple[str, ...]) -> dict[str, Any]:
    whole = np.array([bool(r.segments) and bool(r.segments[0].extras.get("whole_image")) for r in results])
    found = np.array([bool(r.segments) for r in results]) & ~whole
    out: dict[str, Any] = {"images": len(results), "detected": int(found.sum()), "read_whole": int(whole.sum()),
                           "no_face": int(len(results) - found.sum() - whole.sum())}
    if gold is not None:
        predicted = np.array([labels.index(r.segments[0].labels[0]) if r.segments else -1 for r in results])
        for name, rows in (("detected", found), ("read_whole", whole)):
            out[f"accuracy_{name}"] = round(float(np.mean(predicted[rows] == gold[rows])), 3) if rows.any() else None
        out["accuracy_all_no_face_wrong"] = round(float(np.mean(predicted == gold)), 3)
    return out


def _non_faces(data: Path) -> list[np.ndarray]:
    import cv2

    images: list[np.ndarray] = []
    for path in sorted((data / "faces_london_smoke").glob("*.jpg")):
        photo = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        h, w = photo.shape[:2]
        for y, x in ((0, 0), (0, w - 200), (h - 200, 0), (h - 200, w - 200), (h - 200, w // 2 - 100)):
            images.extend(cv2.resize(photo[y : y + 200, x : x + 200], (s, s), interpolation=cv2.INTER_AREA)
                          for s in (48, 160, 300))
    rng = np.random.default_rng(0)
    for _ in range(60):
        noise = rng.integers(0, 255, (160, 160, 3), dtype=np.uint8)
        images.append(cv2.GaussianBlur(noise, (0, 0), sigmaX=float(rng.uniform(0.5, 6))))
        wave = np.arange(160) / rng.uniform(2, 10)
        stripes = ((np.sin(wave[:, None] + wave[None, :]) + 1) * 127).astype(np.uint8)
        images.append(np.repeat(stripes[..., None], 3, axis=2))
    return images


def main() -> None:
    import cv2

    from affectlens.bench.datasets import data_root
    from affectlens.bench.ferplus_data import load_split
    from affectlens.registry import load_recognizer

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--model", default="face.ferplus-wild-fusion.v5")
    args = parser.parse_args()
    data = args.data or data_root()
    recognizer = load_recognizer(args.model)
    recognizer.load()
    labels = tuple(recognizer.config.labels)
    report: dict[str, Any] = {"model": args.model, "detector": recognizer.detector_name}
    fer = load_split(data, "valid")
    report["ferplus_valid"] = _summary(_read(recognizer, [cv2.cvtColor(im, cv2.COLOR_GRAY2RGB) for im in fer.images]),
                                       fer.majority, labels)
    with (data / "faces_in_the_wild" / "labels.csv").open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["emotion"] in labels]
    photos = [cv2.cvtColor(cv2.imread(str(data / "faces_in_the_wild" / r["file"])), cv2.COLOR_BGR2RGB) for r in rows]
    report["faces_in_the_wild"] = _summary(_read(recognizer, photos),
                                           np.array([labels.index(r["emotion"]) for r in rows]), labels)
    report["non_faces"] = _summary(_read(recognizer, _non_faces(data)), None, labels)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
