"""Face expression models on FER+ test and on photos they were not trained on, in one run.

Usage::

    python benchmarks/face_wild_eval.py [--data ../shared/datasets] [--models face.ferplus-cnn.v1 ...]
        [--limit N] [--json out.json]

For each model, through the recognizer's own code path (``analyze``):

* **FER+ test** (FER2013Test / PrivateTest, FER+ majority labels, unknown/not-a-face dropped):
  every image a ``FaceCrop`` (no detection); accuracy, macro-F1 over the 8 labels, ECE of the top
  label against the majority label.
* **unfamiliar crops**: mean top-label confidence on random patches of scenes and textures
  (scikit-image's sample images) and on FER+ test faces blurred past recognition, beside the same
  faces sharp: confidence should drop on what the model cannot read.
* **faces in the wild, test split** (``faces_in_the_wild``, the identity-disjoint split of
  ``affectlens_recipes/face_fusion_cache.wild_split``; no model here was trained on it): each photo
  converted to gray (colour is confounded with the label, see its SOURCE.md), MediaPipe
  detection + mesh, the largest face; a photo with no face found counts as wrong (its
  probabilities uniform for ECE). Macro-F1 over the 6 labels with enough faces (fear and
  contempt have 4 and 2 test faces), over all 8, accuracy, ECE; macro-F1 on the LFW photos only.

Models that lack a label (the ``fer`` peer has no contempt) score 0 for it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

FERPLUS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")
FER2013_NAMES = {"neutral": "neutral", "happy": "happiness", "surprise": "surprise", "sad": "sadness",
                 "angry": "anger", "disgust": "disgust", "fear": "fear"}
DEFAULT_MODELS = ("face.ferplus-cnn.v1", "face.ferplus-wild-fusion.v2", "face.ferplus-wild-fusion.v3",
                  "face.ferplus-wild-fusion.v4", "face.ferplus-wild-fusion.v5", "peer.fer-minixception.v1")


def as_ferplus(scores: dict[str, float]) -> np.ndarray:
    out = np.zeros(len(FERPLUS))
    for label, value in scores.items():
        name = FER2013_NAMES.get(label, label)
        if name in FERPLUS:
            out[FERPLUS.index(name)] += value
    total = out.sum()
    return out / total if total > 0 else np.full(len(FERPLUS), 1.0 / len(FERPLUS))


def largest_face(result: Any) -> np.ndarray | None:
    if not result.segments:
        return None
    segment = max(result.segments, key=lambda s: s.extras.get("box", [0, 0, 0, 0])[2] * s.extras.get("box", [0] * 4)[3])
    return as_ferplus(segment.scores)


def ferplus_test(recognizer: Any, fer: Any) -> np.ndarray:
    """Probabilities [N, 8] of every FER+ test face (a ``FerSplit``), each given as a face crop."""
    from affectlens.inputs import FaceCrop

    probs = []
    for start in range(0, len(fer), 64):
        batch = [FaceCrop(np.repeat(img[..., None], 3, axis=2), name)
                 for img, name in zip(fer.images[start : start + 64], fer.names[start : start + 64], strict=True)]
        for result in recognizer.analyze(batch):
            found = largest_face(result)
            probs.append(found if found is not None else np.full(len(FERPLUS), 1.0 / len(FERPLUS)))
    return np.stack(probs)


def wild_test(recognizer: Any, data: Path, limit: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    from affectlens.inputs import ImageFrame
    from affectlens.vision.io import load_image
    from affectlens_recipes.face_fusion_cache import read_wild_labels, wild_split

    folder = data / "faces_in_the_wild"
    rows = [r for r in read_wild_labels(folder) if wild_split(r["subject"]) == "test"][:limit]
    probs, missed = [], 0
    for start in range(0, len(rows), 32):
        frames = []
        for row in rows[start : start + 32]:
            pixels = load_image(folder / row["file"]).pixels.astype(np.float32)
            gray = np.repeat(pixels.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
            frames.append(ImageFrame(gray, row["file"]))
        for result in recognizer.analyze(frames):
            found = largest_face(result)
            missed += found is None
            probs.append(found if found is not None else np.full(len(FERPLUS), 1.0 / len(FERPLUS)))
    labels = np.asarray([FERPLUS.index(r["emotion"]) for r in rows])
    lfw = np.asarray([r["source"] == "lfw" for r in rows])
    return np.stack(probs), labels, lfw, missed


def london(recognizer: Any, data: Path) -> dict[str, Any]:
    """Posed studio portraits (faces_london_smoke: neutral and smiling, many smiles with closed lips)."""
    from affectlens.vision.io import load_image

    paths = sorted((data / "faces_london_smoke").glob("*_*.jpg"))
    found = {p.stem: largest_face(r) for p, r in zip(paths, recognizer.analyze([load_image(p) for p in paths]),
                                                      strict=True)}
    smiling = [v for k, v in found.items() if k.endswith("_smiling") and v is not None]
    neutral = [v for k, v in found.items() if k.endswith("_neutral") and v is not None]
    happy, calm = FERPLUS.index("happiness"), FERPLUS.index("neutral")
    return {"smiling_read_happiness": f"{sum(int(v.argmax() == happy) for v in smiling)}/{len(smiling)}",
            "neutral_read_neutral": f"{sum(int(v.argmax() == calm) for v in neutral)}/{len(neutral)}",
            "smiling_read_neutral_confidence": [round(float(v[calm]), 3) for v in smiling if v.argmax() == calm]}


#: gray scenes and textures of scikit-image's sample data (no faces): where random crops come from
SCENES = ("camera", "coffee", "brick", "grass", "gravel", "text", "moon", "page", "horse", "coins", "rocket")


def unfamiliar(recognizer: Any, fer_crops: np.ndarray, n: int = 300, seed: int = 0) -> dict[str, float]:
    """Mean top-label confidence on crops unlike the training faces, given as face crops (detector
    off): random patches of scenes and textures, and FER+ test faces blurred past recognition.
    A model whose confidence drops on what it does not know scores lower here than on its faces."""
    import cv2
    import skimage.data

    from affectlens.inputs import FaceCrop

    rng = np.random.default_rng(seed)
    scenes = [np.asarray(getattr(skimage.data, name)()) for name in SCENES]
    patches = []
    for i in range(n):
        img = scenes[i % len(scenes)]
        gray = img if img.ndim == 2 else img.mean(axis=2)
        side = int(rng.integers(48, min(gray.shape[:2]) + 1))
        y, x = (int(rng.integers(0, gray.shape[k] - side + 1)) for k in (0, 1))
        patches.append(cv2.resize(gray[y : y + side, x : x + side].astype(np.float32), (48, 48)).astype(np.uint8))
    blurred = [cv2.GaussianBlur(img, (0, 0), 6.0) for img in fer_crops[:n]]

    def confidence(crops: list[np.ndarray]) -> float:
        found = [largest_face(r) for r in recognizer.analyze(
            [FaceCrop(np.repeat(c[..., None], 3, axis=2), f"probe{i}") for i, c in enumerate(crops)])]
        return round(float(np.mean([f.max() for f in found if f is not None])), 4)

    return {"scene_patches": confidence(patches), "blurred_faces": confidence(blurred),
            "sharp_faces": confidence(list(fer_crops[:n]))}


def summary(probs: np.ndarray, true: np.ndarray, labels: tuple[int, ...]) -> dict[str, float]:
    from affectlens_recipes.face import ece
    from affectlens_recipes.face_fusion import macro_f1_over

    pred = probs.argmax(axis=1)
    return {"accuracy": round(float((pred == true).mean()), 4), "macro_f1": macro_f1_over(true, pred, labels),
            "ece": float(ece(probs, true))}


def main() -> None:
    from affectlens.bench.datasets import data_root
    from affectlens.registry import load_recognizer
    from affectlens_recipes.face import load_split

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    parser.add_argument("--limit", type=int, default=None, help="faces per split (quick runs)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    data = data_root(args.data)
    fer = load_split(data, "test", limit=args.limit)  # read once, scored by every model
    table: dict[str, Any] = {}
    all8, six = tuple(range(8)), tuple(range(6))
    for name in args.models:
        started = time.time()
        recognizer = load_recognizer(name, detector="mediapipe", explain=False, threads=args.threads)
        fer_probs, fer_true = ferplus_test(recognizer, fer), fer.majority
        wild_probs, wild_true, lfw, missed = wild_test(recognizer, data, args.limit)
        row = {
            "ferplus_test": {**summary(fer_probs, fer_true, all8), "faces": len(fer_true)},
            "wild_test": {**summary(wild_probs, wild_true, six), "macro_f1_8": summary(wild_probs, wild_true, all8)[
                "macro_f1"], "macro_f1_lfw": summary(wild_probs[lfw], wild_true[lfw], six)["macro_f1"],
                "faces": len(wild_true), "no_face_found": missed},
            "london": london(recognizer, data) if (data / "faces_london_smoke").is_dir() else None,
            "mean_confidence": unfamiliar(recognizer, fer.images),
            "seconds": round(time.time() - started, 1)}
        table[name] = row
        print(name, json.dumps(row), flush=True)
    print("\n| model | FER+ test acc | FER+ test macro-F1 (8) | FER+ test ECE | wild test macro-F1 (6) "
          "| wild macro-F1 (8) | wild macro-F1 LFW only (6) | wild acc | wild ECE |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, row in table.items():
        f, w = row["ferplus_test"], row["wild_test"]
        print(f"| `{name}` | {f['accuracy']:.3f} | {f['macro_f1']:.3f} | {f['ece']:.3f} | {w['macro_f1']:.3f} "
              f"| {w['macro_f1_8']:.3f} | {w['macro_f1_lfw']:.3f} | {w['accuracy']:.3f} | {w['ece']:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(table, indent=1) + "\n")


if __name__ == "__main__":
    main()
