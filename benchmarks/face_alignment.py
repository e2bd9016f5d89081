"""The shipped expression model with and without eye alignment, on in-the-wild photos.

Usage::

    python benchmarks/face_alignment.py [--data ../shared/datasets] [--images 800] [--seed 0]

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
from pathlib import Path

import numpy as np


def main() -> None:
    from affectlens.bench.datasets import data_root
    from affectlens.bench.metrics import macro_f1
    from affectlens.recognizers.face_onnx import FaceOnnxRecognizer
    from affectlens.vision.io import load_image

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--images", type=int, default=800)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
