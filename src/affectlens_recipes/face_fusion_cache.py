"""Cache, once, what the fusion head of ``face.ferplus-wild-fusion.v2`` learns from: per face, the
shipped CNN's penultimate features and logits (each the mean of the crop and its mirror image, as
the recognizer runs it) and the landmark geometry (``features.face_geometry.geometry_vector``).

Faces come through the recognizer's own code path, so that training sees what inference sees:

* FER+ (``fer2013_ferplus_images``, official splits, FER+ votes): each image is a face crop
  (``FaceCrop``): the crop is the image; the mesh runs on it upscaled (``face_crop_mesh``).
* faces in the wild (``faces_in_the_wild``, 160x160, converted to gray to remove the colour cue that
  is confounded with the label, see its SOURCE.md): BlazeFace + mesh, the largest face, cropped
  with the model's margin; an image where no face is found is kept as a face crop (its row says so).

Usage::

    python -m affectlens_recipes.face_fusion_cache --data ../shared/datasets --out /work/cache/face
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import time
from pathlib import Path
from typing import Any

import numpy as np

from affectlens_recipes.face import FERPLUS_LABELS, load_split

#: the penultimate tensor of the shipped CNN (global average pool, flattened, 384 values)
FEATURE_TENSOR = "/29/Flatten_output_0_DequantizeLinear_Output"
#: identity-disjoint split of faces_in_the_wild by the subject's name (no official split exists):
#: sha256(f"{WILD_SALT}:{subject}") mod 5 -> 0 test, 1 dev (choices, temperature), else train.
#: Film actors hold up to 149 images each, so a plain hash left 12 disgust faces in test; the salt is
#: the one of 0-39 whose test and dev shares of each of the 6 populated classes stay closest to 20%
#: (chosen from label counts only, before any model was scored): test 252/192/72/62/65/54 and dev
#: 185/214/63/52/37/23 neutral/happiness/surprise/sadness/anger/disgust faces
WILD_SALT = 20
WILD_FOLDS = 5
WILD_TEST_FOLD, WILD_DEV_FOLD = 0, 1


def wild_split(subject: str) -> str:
    """'test', 'dev' or 'train' for a faces_in_the_wild subject (fixed: a hash of the name, not of the data)."""
    fold = int(hashlib.sha256(f"{WILD_SALT}:{subject}".encode()).hexdigest(), 16) % WILD_FOLDS
    return "test" if fold == WILD_TEST_FOLD else "dev" if fold == WILD_DEV_FOLD else "train"


def read_wild_labels(folder: Path) -> list[dict[str, str]]:
    with (folder / "labels.csv").open(newline="", encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["emotion"] in FERPLUS_LABELS]


def feature_session(model_dir: Path, threads: int = 1, feature_tensor: str = FEATURE_TENSOR) -> Any:
    """An onnxruntime session of the shipped CNN that also outputs its penultimate features."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(model_dir / "model.onnx"))
    model.graph.output.append(onnx.helper.make_tensor_value_info(feature_tensor, onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def appearance(session: Any, crops: np.ndarray, *, mean: float, std: float, batch: int = 128,
               feature_tensor: str = FEATURE_TENSOR) -> tuple[np.ndarray, np.ndarray]:
    """(features [N, 384], logits [N, 8]) of uint8 gray crops [N, 48, 48], each averaged with its mirror."""
    feats, logits = [], []
    for start in range(0, len(crops), batch):
        x = (crops[start : start + batch].astype(np.float32)[:, None] / 255.0 - mean) / std
        both = np.concatenate([x, x[..., ::-1]])
        out_logits, out_feats = session.run(["logits", feature_tensor], {"image": both})
        n = len(x)
        feats.append((out_feats[:n] + out_feats[n:]) / 2.0)
        logits.append((out_logits[:n] + out_logits[n:]) / 2.0)
    return np.concatenate(feats).astype(np.float32), np.concatenate(logits).astype(np.float32)


#: the part of FER2013Valid blurred past easy reading (Gaussian sigma, pixels of the 48x48 crop): dev faces
#: unlike the training faces, on which the familiarity factor is chosen (``face_familiarity``)
BLURRED_PART, BLUR_SIGMA = "valid_blur", 3.0


def fer_rows(data: Path, split: str, mesh: Any, limit: int | None = None, blur: float = 0.0) -> dict[str, np.ndarray]:
    from affectlens.features.face_geometry import geometry_vector
    from affectlens.vision.face_analysis import face_crop_mesh

    fer = load_split(data, split, limit=limit)  # limit: a seeded random subset of the split
    if blur:
        import cv2

        fer.images = np.stack([cv2.GaussianBlur(image, (0, 0), blur) for image in fer.images])
    rgb = np.repeat(fer.images[..., None], 3, axis=3)
    geometry = np.stack([geometry_vector(face_crop_mesh(mesh, image)) for image in rgb])
    return {"crops": fer.images, "geometry": geometry, "votes": fer.votes, "names": np.asarray(fer.names)}


def wild_rows(data: Path, recognizer: Any) -> dict[str, np.ndarray]:
    """Every faces_in_the_wild image through the recognizer's detection, mesh and crop (largest face)."""
    from affectlens.features.face_geometry import geometry_vector
    from affectlens.inputs import FaceCrop, ImageFrame
    from affectlens.vision.face_analysis import face_crop_mesh
    from affectlens.vision.io import load_image

    folder = data / "faces_in_the_wild"
    rows = read_wild_labels(folder)
    crops, geometry, labels, found = [], [], [], []
    for row in rows:
        pixels = load_image(folder / row["file"]).pixels
        gray = np.repeat(np.asarray(pixels, np.float32).mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
        faces = recognizer._detect(ImageFrame(gray, row["file"]), 0)
        if faces:
            face = max(faces, key=lambda f: f.box.area)
            mesh = face.mesh
        else:  # no face found: the whole image as a face crop, as a user would pass it with detector "none"
            face = recognizer._detect(FaceCrop(gray, row["file"]), 0)[0]
            mesh = face_crop_mesh(recognizer._mesh, gray)
        crops.append(recognizer._crops([face])[0])
        geometry.append(geometry_vector(mesh))
        labels.append(FERPLUS_LABELS.index(row["emotion"]))
        found.append(bool(faces))
    return {"crops": np.stack(crops), "geometry": np.stack(geometry), "labels": np.asarray(labels),
            "detected": np.asarray(found), "names": np.asarray([r["file"] for r in rows]),
            "subjects": np.asarray([r["subject"] for r in rows]), "sources": np.asarray([r["source"] for r in rows]),
            "splits": np.asarray([wild_split(r["subject"]) for r in rows])}


def penultimate_tensor(model_path: Path) -> str:
    """The flattened global-average-pool tensor of a FER CNN export (its dequantised copy in an int8 graph)."""
    import onnx

    graph = onnx.load(str(model_path)).graph
    flat = [n.output[0] for n in graph.node if n.op_type == "Flatten"]
    if len(flat) != 1:
        raise ValueError(f"{model_path}: expected one Flatten node, found {len(flat)}")
    dequantised = {o for n in graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    return next((o for o in dequantised if o.startswith(flat[0] + "_DequantizeLinear")), flat[0])


def extra_cnn_key(index: int) -> str:
    """The cache key suffix and graph prefix of the ``index``-th extra CNN (0 -> ``b``, 1 -> ``c``, ...)."""
    return "bcdefgh"[index]


def add_extra_cnns(cache: Path, model_dirs: list[Path], parts: list[str], *, threads: int = 1) -> None:
    """Score further CNNs on the cached crops of each part: adds ``features_<key>`` and ``logits_<key>``
    per CNN (``key`` b for the first, c for the next; crop and mirror averaged, as for the first CNN),
    so a head can read them all.  Each part is read and written once."""
    from affectlens_recipes.face import MEAN, STD

    tensors = [penultimate_tensor(d / "model.onnx") for d in model_dirs]
    sessions = [feature_session(d, threads, feature_tensor=t) for d, t in zip(model_dirs, tensors, strict=True)]
    for part in parts:
        path = cache / f"fusion_{part}.npz"
        with np.load(path, allow_pickle=False) as data:
            rows = {name: data[name] for name in data.files}
        for index, (session, tensor) in enumerate(zip(sessions, tensors, strict=True)):
            key = extra_cnn_key(index)
            rows[f"features_{key}"], rows[f"logits_{key}"] = appearance(session, rows["crops"], mean=MEAN, std=STD,
                                                                        feature_tensor=tensor)
            print(f"{part}: extra CNN {key} features {rows[f'features_{key}'].shape}", flush=True)
        np.savez_compressed(path, **rows)  # type: ignore[arg-type]


def int8_model_folder(run: Path, target: Path) -> None:
    """A model folder of a training run's int8 CNN (``face.py --int8``): ``model.onnx`` is the int8 graph
    and ``config.json`` pins its sha256, so that the recognizer loads it (e.g. as ``--model-dir``)."""
    import json
    import shutil

    from affectlens.models import sha256_file

    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(run / "model.int8.onnx", target / "model.onnx")
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    config["sha256"] = {"model.onnx": sha256_file(target / "model.onnx")}
    config["variant"] = "int8"
    (target / "config.json").write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    from affectlens.recognizers.face_onnx import DEFAULT_MODEL_DIR, FaceOnnxRecognizer
    from affectlens_recipes.face import MEAN, STD

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--out", type=Path, default=None, help="the cache folder (required but with --int8-folder)")
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--parts", nargs="+", default=["wild", "test", "valid", BLURRED_PART, "train"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--train-limit", type=int, default=None,
                        help="a seeded random subset of FER2013Train (the mesh costs CPU time)")
    parser.add_argument("--second-cnn", type=Path, action="append", default=[],
                        help="only add an extra CNN's features to an existing cache (a model folder with model.onnx); "
                             "repeat for a third CNN (keys b, c, ... in the order given)")
    parser.add_argument("--int8-folder", type=Path, nargs=2, metavar=("RUN", "TARGET"), default=None,
                        help="only make a model folder of a training run's int8 CNN (face.py --int8)")
    args = parser.parse_args(argv)
    if args.int8_folder:
        int8_model_folder(*args.int8_folder)
        return
    if args.out is None:
        parser.error("--out is required")
    if args.second_cnn:
        add_extra_cnns(args.out, args.second_cnn, args.parts, threads=args.threads)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    session = feature_session(args.model_dir, args.threads)
    recognizer = FaceOnnxRecognizer(args.model_dir, detector="mediapipe", explain=False, threads=args.threads)
    recognizer.load()
    for part in args.parts:
        started = time.time()
        if part == "wild":
            rows = wild_rows(args.data, recognizer)
        elif part == BLURRED_PART:
            rows = fer_rows(args.data, "valid", recognizer._mesh, blur=BLUR_SIGMA)
        else:
            rows = fer_rows(args.data, part, recognizer._mesh, args.train_limit if part == "train" else None)
        # the crops stay in the cache so that another CNN can be scored on the same faces later
        rows["features"], rows["logits"] = appearance(session, rows["crops"], mean=MEAN, std=STD)
        np.savez_compressed(args.out / f"fusion_{part}.npz", **rows)  # type: ignore[arg-type]
        missing = float(rows["geometry"][:, -1].mean())
        print(f"{part}: {len(rows['features'])} faces, landmarks missing {missing:.3f}, "
              f"{time.time() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
