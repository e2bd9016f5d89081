"""The shipped expression model with and without eye alignment, on in-the-wild photos.

Usage::

    python benchmarks/face_alignment.py [--data ../shared/datasets] [--images 800] [--seed 0]
    python benchmarks/face_alignment.py --ferplus --skip-wild    # FER+ test, as cropped vs eyes levelled

A seeded sample of ``faces_in_the_wild`` (160x160 photos, one face each, labels on the FER+
scale) through ``FaceOnnxRecognizer`` with the mediapipe detector, ``align=False`` and
``align=True`` on the same images; the largest face's top label is the prediction (an image
without a face counts as wrong).  Prints accuracy and macro-F1 over the labels present.
No training, no tuning: the same model, the same detections; only the crop's rotation differs.
A third row runs the Haar detector (the previous default) on the same images, for reference.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import numpy as np


def main() -> None:
    from affectlens.bench.datasets import data_root
    from affectlens.metrics import macro_f1
    from affectlens.recognizers.face_onnx import FaceOnnxRecognizer
    from affectlens.vision.io import load_image

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--images", type=int, default=800)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ferplus", action="store_true", help="also FER+ test, as cropped vs eyes levelled")
    parser.add_argument("--ferplus-limit", type=int, default=None)
    parser.add_argument("--skip-wild", action="store_true")
    args = parser.parse_args()
    if args.ferplus:
        ferplus(data_root(args.data), args.ferplus_limit)
    if args.skip_wild:
        return
    folder = data_root(args.data) / "faces_in_the_wild"
    rows = list(csv.DictReader((folder / "labels.csv").open()))
    rng = np.random.default_rng(args.seed)
    sample = [rows[i] for i in sorted(rng.choice(len(rows), size=min(args.images, len(rows)), replace=False))]
    images = [load_image(folder / r["file"]).pixels for r in sample]
    for detector, align in (("mediapipe", False), ("mediapipe", True), ("haar", False)):
        rec = FaceOnnxRecognizer(detector=detector, explain=False, align=align)
        labels = list(rec.config.labels)
        truth = np.asarray([labels.index(r["emotion"]) for r in sample])
        predicted = []
        for start in range(0, len(images), 64):
            for result in rec.analyze(images[start : start + 64]):
                predicted.append(labels.index(result.segments[0].labels[0]) if result.segments else -1)
        pred = np.asarray(predicted)
        present = sorted(set(truth.tolist()))
        print(f"detector={detector} align={align}: {len(sample)} images (seed {args.seed}), "
              f"no face {int((pred < 0).sum())}, "
              f"accuracy {np.mean(pred == truth):.3f}, macro-F1 over {len(present)} labels "
              f"{macro_f1(truth, pred, present):.3f}")


def ferplus(root: Path, limit: int | None) -> None:
    """FER+ test (official split, majority labels): the shipped model on the 48x48 crops as they
    are (the official number's path) and rotated about their centre so the eyes are level, the
    angle from the face mesh on a 192 px upscale (crops where no face/mesh is found stay as they are)."""
    import cv2

    from affectlens.bench.ferplus_data import load_split
    from affectlens.recognizers.face_onnx import FaceOnnxRecognizer
    from affectlens.vision.blazeface import BlazeFaceDetector
    from affectlens.vision.face_mesh import FaceMesh, eye_centres, eye_line_angle
    from affectlens_recipes.face import scores

    test = load_split(root, "test", limit=limit)
    rec = FaceOnnxRecognizer(detector="none", explain=False)
    detector, mesh = BlazeFaceDetector("both"), FaceMesh()
    rotated = test.images.copy()
    found, angles = 0, []
    for i, image in enumerate(test.images):
        big = cv2.cvtColor(cv2.resize(image, (192, 192), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2RGB)
        boxes = detector.detect(big)
        points = mesh.landmarks(big, boxes[0]) if boxes else None
        if points is None:
            continue
        found += 1
        left, right = eye_centres(points)
        angle = math.degrees(eye_line_angle((float(left[0]), float(left[1])), (float(right[0]), float(right[1]))))
        angles.append(angle)
        matrix = cv2.getRotationMatrix2D((23.5, 23.5), angle, 1.0)
        rotated[i] = cv2.warpAffine(image, matrix, (48, 48), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    print(f"FER+ test: {len(test)} faces; mesh found on {found}; |eye-line angle| median "
          f"{np.median(np.abs(angles)):.1f} deg, 90th percentile {np.percentile(np.abs(angles), 90):.1f}")
    for name, images in (("as cropped (official path)", test.images), ("eyes levelled", rotated)):
        result = scores(test.majority, rec.predict_crops(images).argmax(1))
        print(f"  {name}: accuracy {result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f}")


if __name__ == "__main__":
    main()
