"""Face detection on the London smoke set, and the crop margin that matches FER2013's framing.

Usage::

    python benchmarks/face_detection.py [--data ../shared/datasets]

1. ``faces_london_smoke`` (20 studio portraits, one face each): faces found / present and
   images with exactly one face, for raw OpenCV Haar (defaults, full size), our filtered
   ``HaarFaceDetector`` (image setting) and its video setting (480 px, scale step 1.2),
   with milliseconds per image.
2. FER2013Valid images upscaled to 192 px: the median Haar box side / image side; the
   margin per side that reproduces FER2013's framing is ``(1 / median - 1) / 2``.
3. ``--mediapipe``: MediaPipe BlazeFace side by side with Haar on the London set, the
   in-the-wild set (recall, yaw), textures (false faces) and small faces in 720p, with
   ms/frame, and a synthetic multi-face 720p video (``face_detection_mediapipe.py``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def main() -> None:
    import cv2

    from affectlens.bench.datasets import data_root
    from affectlens.vision.detect import HaarFaceDetector
    from affectlens.vision.io import load_image

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--fer-images", type=int, default=600)
    parser.add_argument("--mediapipe", action="store_true",
                        help="then MediaPipe BlazeFace side by side with Haar (face_detection_mediapipe.py)")
    parser.add_argument("--wild", type=int, default=400, help="with --mediapipe: in-the-wild images to sample")
    args = parser.parse_args()
    root = data_root(args.data)
    files = sorted((root / "faces_london_smoke").glob("*.jpg"))
    if not files:
        raise SystemExit(f"no images in {root / 'faces_london_smoke'}")
    images = [load_image(f).pixels for f in files]
    raw = cv2.CascadeClassifier(str(cv2.data.haarcascades) + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]
    setups = {
        "raw Haar (OpenCV defaults, full size)": lambda im: raw.detectMultiScale(cv2.cvtColor(im, cv2.COLOR_RGB2GRAY)),
        "HaarFaceDetector() image setting": HaarFaceDetector().detect,
        "HaarFaceDetector(max_side=480, scale_factor=1.2) video setting":
            HaarFaceDetector(max_side=480, scale_factor=1.2).detect,
    }
    print(f"faces_london_smoke: {len(images)} images, {len(images)} faces present")
    for name, detect in setups.items():
        started = time.perf_counter()
        counts = [len(detect(im)) for im in images]
        ms = 1000 * (time.perf_counter() - started) / len(images)
        print(f"  {name}: found {sum(counts)}, exactly one {sum(c == 1 for c in counts)}, "
              f"none {sum(c == 0 for c in counts)}, more than one {sum(c > 1 for c in counts)}, {ms:.1f} ms/image")
    fer = sorted((root / "fer2013_ferplus_images" / "FER2013Valid").glob("*.png"))[: args.fer_images]
    if fer:
        detector = HaarFaceDetector(min_face=0.3, check_eyes=False)
        ratios = []
        for path in fer:
            big = cv2.resize(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), (192, 192), interpolation=cv2.INTER_CUBIC)
            boxes = detector.detect(cv2.cvtColor(big, cv2.COLOR_GRAY2RGB))
            if boxes:
                ratios.append(boxes[0].w / 192)
        r = np.asarray(ratios)
        print(f"FER2013Valid (first {len(fer)}, upscaled to 192 px): Haar found a face in {len(r)}; box side / image "
              f"side median {np.median(r):.3f} (IQR {np.percentile(r, 25):.3f}-{np.percentile(r, 75):.3f}); "
              f"margin per side for FER framing {(1 / np.median(r) - 1) / 2:.3f}")
    if args.mediapipe:
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from face_detection_mediapipe import run

        run(root, wild_images=args.wild)


if __name__ == "__main__":
    main()
