"""MediaPipe BlazeFace against Haar, side by side: recall, yaw, small faces, false faces, ms/frame.

Usage::

    python benchmarks/face_detection_mediapipe.py [--data ../shared/datasets] [--wild 400] [--seed 0]
    python benchmarks/face_detection.py --mediapipe   # the same, after the Haar-only sections

Detectors: ``HaarFaceDetector`` image and video settings (``vision/detect.py``), BlazeFace
full range, short range, both merged, both + the face-mesh presence check (what the
recognizer's ``mediapipe`` detector does), and full range with 256 px tiles (for small faces).  Sections:

1. ``faces_london_smoke``: 20 studio portraits (1350 px), one face each: images with a face found.
2. ``faces_in_the_wild``: a seeded sample of the 160x160 crops (one face each, LFW press photos
   and film stills, some in profile): images with a face found, overall and per yaw bin.  There
   are no yaw labels: yaw is estimated from BlazeFace's keypoints (nose tip between the two ear
   tragions, ``asin(2r - 1)``) on the images where full or short range found the face, so the
   bins describe those faces only.
3. Textures (640x480, no faces): skimage brick, grass, gravel, uniform noise, two checkerboards,
   Gaussian-blurred noise: false faces per detector.
4. Small faces: a 1280x720 frame with 8 London faces pasted at 24-96 px (face box side), on a
   textured background: faces found (centre within the pasted box) and false faces, ms/frame.
5. A synthetic multi-face video (``multi_face_video``): 30 frames of 1280x720, 6 London faces of
   40-160 px drifting across a texture, tilting up to +-25 deg: recall, false faces, ms/frame
   (``--video-only`` runs this section alone).
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def detectors() -> dict[str, Any]:
    from affectlens.vision.blazeface import BlazeFaceDetector
    from affectlens.vision.face_analysis import make_detectors

    haar_image, haar_video = make_detectors("haar")  # the recognizer's image and video settings
    return {
        "haar image": haar_image,
        "haar video (480 px, 1.2)": haar_video,
        "blazeface full": BlazeFaceDetector("full"),
        "blazeface short": BlazeFaceDetector("short"),
        "blazeface both (short + full)": BlazeFaceDetector("both"),
        "both + mesh check (default)": MeshChecked(make_detectors("mediapipe")[0]),
        "blazeface full + 256 px tiles": BlazeFaceDetector("full", tile=256),
    }


class MeshChecked:
    """What the recognizer does with the mediapipe detector: keep the faces the mesh model confirms."""

    def __init__(self, detector: Any) -> None:
        from affectlens.vision.face_mesh import FaceMesh

        self.detector, self.mesh = detector, FaceMesh()

    def detect(self, rgb: np.ndarray) -> list[Any]:
        return [b for b in self.detector.detect(rgb) if self.mesh.landmarks(rgb, b) is not None]


def timed(detect: Callable[[np.ndarray], list[Any]], images: list[np.ndarray]) -> tuple[list[list[Any]], float]:
    detect(images[0])  # warm-up (loads the model)
    started = time.perf_counter()
    found = [detect(im) for im in images]
    return found, 1000 * (time.perf_counter() - started) / len(images)


def yaw_degrees(box: Any) -> float | None:
    if len(box.keypoints) < 6:
        return None
    nose_x = box.keypoints[2][0]
    ear_a, ear_b = sorted((box.keypoints[4][0], box.keypoints[5][0]))
    if ear_b - ear_a < 1e-6:
        return None
    r = min(1.0, max(0.0, (nose_x - ear_a) / (ear_b - ear_a)))
    return math.degrees(math.asin(2 * r - 1))


def textures() -> dict[str, np.ndarray]:
    import cv2
    from skimage import data

    rng = np.random.default_rng(0)

    def rgb(gray: np.ndarray) -> np.ndarray:
        gray = cv2.resize(gray, (640, 480), interpolation=cv2.INTER_LINEAR)
        return np.repeat(gray[..., None], 3, axis=2) if gray.ndim == 2 else gray

    yy, xx = np.indices((480, 640))
    return {
        "brick": rgb(data.brick()), "grass": rgb(data.grass()), "gravel": rgb(data.gravel()),
        "uniform noise": rng.integers(0, 256, (480, 640, 3), dtype=np.uint8),
        "checkerboard 40 px": rgb(((xx // 40 + yy // 40) % 2 * 255).astype(np.uint8)),
        "checkerboard 12 px": rgb(((xx // 12 + yy // 12) % 2 * 255).astype(np.uint8)),
        "blurred noise": cv2.GaussianBlur(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8), (0, 0), 6),
    }


def small_face_frame(faces: list[np.ndarray], sides: list[int]) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Paste face crops (each framed as face box + 25% margin) at the given face sides in a 720p frame."""
    import cv2
    from skimage import data

    frame = cv2.resize(data.gravel(), (1280, 720))
    frame = np.repeat((frame // 2 + 64)[..., None], 3, axis=2).astype(np.uint8)
    truth = []
    for i, (face, side) in enumerate(zip(faces, sides, strict=True)):
        patch_side = round(side * 1.5)
        patch = cv2.resize(face, (patch_side, patch_side), interpolation=cv2.INTER_AREA)
        x, y = 60 + (i % 4) * 300, 120 + (i // 4) * 330
        frame[y : y + patch_side, x : x + patch_side] = patch
        offset = round(side * 0.25)
        truth.append((x + offset, y + offset, side, side))
    return frame, truth


def multi_face_video(faces: list[np.ndarray], *, frames: int = 30, seed: int = 0
                     ) -> list[tuple[np.ndarray, list[tuple[int, int, int, int]]]]:
    """A synthetic 720p clip: each face crop (face box + 25% margin) drifts across a textured
    background at its own size (40-160 px face side), speed and in-plane tilt (up to +-25 deg),
    and faces pass close to each other; returns (frame, true face boxes) per frame."""
    import cv2
    from skimage import data

    rng = np.random.default_rng(seed)
    background = cv2.resize(data.gravel(), (1280, 720))
    background = np.repeat((background // 2 + 64)[..., None], 3, axis=2).astype(np.uint8)
    sides = [40, 56, 72, 96, 128, 160][: len(faces)]
    starts = [(rng.uniform(40, 1000), rng.uniform(40, 500)) for _ in sides]
    speeds = [(rng.uniform(-12, 12), rng.uniform(-6, 6)) for _ in sides]
    tilts = [rng.uniform(-25, 25) for _ in sides]
    clip = []
    for t in range(frames):
        frame = background.copy()
        truth = []
        for face, side, (x0, y0), (vx, vy), tilt in zip(faces, sides, starts, speeds, tilts, strict=False):
            patch_side = round(side * 1.5)
            patch = cv2.resize(face, (patch_side, patch_side), interpolation=cv2.INTER_AREA)
            angle = tilt * np.sin(t / 6.0)  # the head tilts back and forth
            matrix = cv2.getRotationMatrix2D((patch_side / 2, patch_side / 2), angle, 1.0)
            patch = cv2.warpAffine(patch, matrix, (patch_side, patch_side), borderMode=cv2.BORDER_REFLECT)
            x = int(np.clip(x0 + vx * t, 0, 1280 - patch_side))
            y = int(np.clip(y0 + vy * t, 0, 720 - patch_side))
            frame[y : y + patch_side, x : x + patch_side] = patch
            offset = round(side * 0.25)
            truth.append((x + offset, y + offset, side, side))
        clip.append((frame, truth))
    return clip


def matched(boxes: list[Any], truth: list[tuple[int, int, int, int]]) -> tuple[int, int]:
    """(faces found, false faces): a box counts when its centre is inside a true face box."""
    hit = set()
    false = 0
    for b in boxes:
        cx, cy = b.x + b.w / 2, b.y + b.h / 2
        inside = [i for i, (x, y, w, h) in enumerate(truth) if x <= cx <= x + w and y <= cy <= y + h]
        if inside:
            hit.add(inside[0])
        else:
            false += 1
    return len(hit), false


def main() -> None:
    from affectlens.bench.datasets import data_root

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--wild", type=int, default=400, help="in-the-wild images to sample")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--video-only", action="store_true", help="only the synthetic multi-face video (5.)")
    args = parser.parse_args()
    if args.video_only:
        video_section(london_crops(data_root(args.data), 6), detectors(), seed=args.seed)
        return
    run(data_root(args.data), wild_images=args.wild, seed=args.seed)


def run(root: Path, *, wild_images: int = 400, seed: int = 0) -> None:
    from affectlens.vision.blazeface import BlazeFaceDetector
    from affectlens.vision.io import load_image

    setups = detectors()

    london_files = sorted((root / "faces_london_smoke").glob("*.jpg"))
    london = [load_image(f).pixels for f in london_files]
    print(f"1. faces_london_smoke: {len(london)} images, one face each (1350 px); box side / Haar's "
          "(the crop margin was tuned on Haar boxes)")
    haar_sides: list[float] = []
    for name, det in setups.items():
        found, ms = timed(det.detect, london)
        sides = [f[0].w for f in found if f]
        if not haar_sides:
            haar_sides = [float(f[0].w) if f else float("nan") for f in found]
        ratio = np.nanmedian([f[0].w / h for f, h in zip(found, haar_sides, strict=True) if f])
        print(f"  {name:30s} found in {sum(len(f) > 0 for f in found)}/{len(london)}, exactly one "
              f"{sum(len(f) == 1 for f in found)}, {ms:7.1f} ms/image, box side / Haar median {ratio:.3f} "
              f"({int(np.median(sides)) if sides else 0} px)")

    folder = root / "faces_in_the_wild"
    rows = list(csv.DictReader((folder / "labels.csv").open()))
    rng = np.random.default_rng(seed)
    sample = [rows[i] for i in sorted(rng.choice(len(rows), size=min(wild_images, len(rows)), replace=False))]
    wild = [load_image(folder / r["file"]).pixels for r in sample]
    print(f"2. faces_in_the_wild: {len(wild)} sampled images (seed {seed}), one face each (160 px)")
    results: dict[str, list[list[Any]]] = {}
    for name, det in setups.items():
        results[name], ms = timed(det.detect, wild)
        by_source = {src: np.mean([len(f) > 0 for f, r in zip(results[name], sample, strict=True)
                                   if r["source"] == src]) for src in sorted({r["source"] for r in sample})}
        cells = ", ".join(f"{s} {v:.3f}" for s, v in by_source.items())
        print(f"  {name:30s} recall {np.mean([len(f) > 0 for f in results[name]]):.3f} ({cells}), {ms:6.1f} ms/image")
    yaws: list[float | None] = []
    for full, short in zip(results["blazeface full"], results["blazeface short"], strict=True):
        boxes = full or short
        yaws.append(yaw_degrees(boxes[0]) if boxes else None)
    bins = [(0, 20), (20, 40), (40, 90)]
    print("  recall by |yaw| estimated from BlazeFace keypoints (faces full or short range found):")
    for lo, hi in bins:
        idx = [i for i, y in enumerate(yaws) if y is not None and lo <= abs(y) < hi]
        if not idx:
            continue
        cells = ", ".join(f"{n} {np.mean([len(results[n][i]) > 0 for i in idx]):.3f}" for n in setups)
        print(f"    |yaw| {lo}-{hi} deg (n={len(idx)}): {cells}")
    print(f"    neither BlazeFace model found a face in {sum(y is None for y in yaws)} images")

    print("3. textures, 640x480, no faces: false faces per image")
    tex = textures()
    for name, det in setups.items():
        counts = {t: len(det.detect(im)) for t, im in tex.items()}
        print(f"  {name:30s} total {sum(counts.values())}: " + ", ".join(f"{t} {c}" for t, c in counts.items()))

    sides = [24, 28, 32, 40, 48, 64, 80, 96]
    finder = BlazeFaceDetector("full")
    crops = []
    for im in london[::2][: len(sides)]:
        box = finder.detect(im)[0]
        side = round(max(box.w, box.h) * 1.5)
        x0, y0 = round(box.x + box.w / 2 - side / 2), round(box.y + box.h / 2 - side / 2)
        crops.append(im[max(0, y0) : y0 + side, max(0, x0) : x0 + side])
    frame, truth = small_face_frame(crops, sides)
    print(f"4. small faces: 1280x720 frame, {len(sides)} faces of {sides} px (face box side)")
    for name, det in setups.items():
        found, ms = timed(det.detect, [frame] * 5)
        hits, false = matched(found[0], truth)
        sizes = sorted(sides[i] for i, t in enumerate(truth) if matched(found[0], [t])[0])
        print(f"  {name:30s} found {hits}/{len(truth)} (sides {sizes}), false {false}, {ms:7.1f} ms/frame")
    video_section(crops, setups, seed=seed)


def london_crops(root: Path, count: int) -> list[np.ndarray]:
    """Face crops (face box + 25% margin each side) of every other London portrait."""
    from affectlens.vision.blazeface import BlazeFaceDetector
    from affectlens.vision.io import load_image

    finder = BlazeFaceDetector("full")
    crops = []
    for path in sorted((root / "faces_london_smoke").glob("*.jpg"))[::2][:count]:
        im = load_image(path).pixels
        box = finder.detect(im)[0]
        side = round(max(box.w, box.h) * 1.5)
        x0, y0 = round(box.x + box.w / 2 - side / 2), round(box.y + box.h / 2 - side / 2)
        crops.append(im[max(0, y0) : y0 + side, max(0, x0) : x0 + side])
    return crops


def video_section(crops: list[np.ndarray], setups: dict[str, Any], *, seed: int = 0) -> None:
    clip = multi_face_video(crops[:6], seed=seed)
    print(f"5. synthetic multi-face video: {len(clip)} frames 1280x720, 6 moving faces of 40-160 px, "
          f"tilting up to +-25 deg (seed {seed})")
    for name, det in setups.items():
        found, ms = timed(det.detect, [f for f, _ in clip])
        hits = [matched(boxes, truth) for boxes, (_, truth) in zip(found, clip, strict=True)]
        recall = sum(h for h, _ in hits) / sum(len(t) for _, t in clip)
        print(f"  {name:30s} recall {recall:.3f}, false faces {sum(f for _, f in hits)} in {len(clip)} frames, "
              f"{ms:7.1f} ms/frame")


if __name__ == "__main__":
    main()
