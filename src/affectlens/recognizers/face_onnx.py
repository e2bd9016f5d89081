"""Facial expression recognizer: face detection -> crop -> ONNX CNN -> scores, VAD, region and AU-like cues.

Detection: MediaPipe BlazeFace with the 468-point mesh when installed, else Haar
(``vision/face_analysis.py``); with the mesh, each face gets action-unit-like cues
(``features/face_geometry.py``) and, with ``align=True``, an eye-levelled crop.

A model folder holds ``model.onnx`` (input [N, C, H, W] float32, output [N, L] logits) and
``config.json``::

    {"labels": [...], "label_set": "ferplus", "input_size": [48, 48], "channels": 1,
     "input_name": "image", "output_name": "logits", "scale": 0.00392156862745098,
     "mean": 0.0, "std": 1.0, "temperature": 1.0, "margin": 0.10, "version": "v1",
     "sha256": {"model.onnx": "<hex>"}}

Any folder of this layout works (``model_dir=...`` or ``AFFECTLENS_FACE_MODEL_DIR``): the recognizer
does not depend on the model we train (``affectlens_recipes.face``); one without its files raises
``ModelFilesMissing`` on load.  The shipped folders: ``models/face-*`` (model cards: research use only).

Inputs: ``ImageFrame`` (or an RGB array, or an image path) -> one result with one segment
per face (an explicit empty result with a warning when there is none; a small, face-crop sized
image the detector misses is read whole when the mesh finds a face in it, ``extras["whole_image"]``);
``VideoFile`` -> one result with one segment per face per sampled frame, faces tracked (``track_id``) and their
scores smoothed per track (EMA; the raw top label is kept in ``extras``), occlusion cues refreshed
per track once a second or on a label change (``region_cue_every``; docs/vision.md).  Labels map to VAD
through the taxonomy layer (``vad_from_scores``) only.  ``stream_video``: the video's segments as they come.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.calibration import softmax
from affectlens.inputs import FaceCrop, ImageFrame, InputError
from affectlens.model_folder import ModelFilesError, ModelFilesMissing, ModelFolder
from affectlens.recognizer_params import RecognizerParams
from affectlens.recognizers.face_config import FaceModelConfig
from affectlens.types import EmotionResult, Modality, Provenance, Segment, StreamedResult

DEFAULT_NAME = "face.ferplus-cnn.v1"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "face-ferplus-cnn-v1"
MODEL_DIR_ENV = "AFFECTLENS_FACE_MODEL_DIR"
#: "auto" (default: mediapipe if installed, else haar), "mediapipe", "haar" or "none": every image is
#: already one face crop (e.g. a folder of FER images)
DETECTOR_ENV = "AFFECTLENS_FACE_DETECTOR"


# the one error type of model folders (``model_folder``), under the names this module always had
FaceModelFilesMissing = ModelFilesMissing
FaceModelIntegrityError = ModelFilesError


@dataclass
class _Face:
    """A detected face waiting for the model: where it is and its crop."""

    item: int
    box: Any  # FaceBox
    crop_box: tuple[int, int, int, int]
    frame: ImageFrame
    track_id: int | None = None
    mesh: np.ndarray | None = None  # 468 face-mesh points in image pixels (mediapipe detector only)
    geometry: list[Any] | None = None  # action-unit-like Cues, computed where the reference is known
    geometry_input: np.ndarray | None = None  # the model's geometry input where it differs from the still-image one
    whole_image: bool = False  # no face was detected: the image, small and face-shaped, was read as one face crop


class FaceOnnxRecognizer(RecognizerParams):
    """Expressions of every face in images and video frames (ONNX CNN), with occlusion cues."""

    # analysis only: with_params copies share the model
    RUNTIME_PARAMS = frozenset({"explain", "batch_size", "smoothing", "max_misses", "region_cue_every"})

    modality = Modality.FACE

    def __init__(self, model_dir: str | Path | None = None, *, name: str = DEFAULT_NAME,
                 detector: str | None = None, explain: bool = True, batch_size: int = 64,
                 smoothing: float = 0.5, max_misses: int = 5, threads: int | None = None,
                 verify: bool = True, align: bool = False, landmarks: bool = True,
                 small_faces: bool = False, region_cue_every: float = 1.0) -> None:
        if model_dir is None:
            model_dir = os.environ.get(MODEL_DIR_ENV) or DEFAULT_MODEL_DIR
        self.model_dir = Path(model_dir)
        self.name = name
        self.version = name.rsplit(".", 1)[-1]
        self.label_set = "ferplus"
        from affectlens.vision.face_analysis import resolve_detector

        self.detector_name = resolve_detector(detector or os.environ.get(DETECTOR_ENV) or "auto")
        self.align = align  # rotate crops so the eyes are level (needs the mediapipe detector's landmarks)
        self.landmarks = landmarks and self.detector_name == "mediapipe"
        self._want_landmarks = landmarks  # a model with a geometry input also meshes face crops
        self.small_faces = small_faces  # mediapipe: also scan 256 px tiles (faces down to ~24 px; ~9x slower)
        self._mesh: Any = None
        self.explain = explain
        self.region_cue_every = region_cue_every  # video: seconds between a track's occlusion cues (RegionCueCache)
        self.batch_size = batch_size
        self.smoothing = smoothing
        self.max_misses = max_misses
        self.threads = threads
        self.verify = verify
        self._session: Any = None
        self._config: FaceModelConfig | None = None
        self._detector: Any = None
        self._video_detector: Any = None

    # -- loading -------------------------------------------------------------------------
    def load(self) -> None:
        if self._session is not None:
            return
        import onnxruntime as ort

        try:
            folder = ModelFolder.open(self.model_dir, kind="face", needs=("model.onnx",), required_keys=("labels",),
                                      verify=self.verify)
        except ModelFilesMissing as exc:
            reason = str(exc).removeprefix("model files missing: ")
            raise ModelFilesMissing(
                f"face model files missing: no trained expression model ({reason}; "
                f"train one with 'python -m affectlens_recipes.face', see docs/vision.md, "
                f"or point {MODEL_DIR_ENV} to a model folder)") from None
        config = FaceModelConfig.from_dict(folder.config)
        model_path = folder.file("model.onnx")
        from affectlens.runtime_threads import session_options

        options = session_options(ort, threads=self.threads)
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._config = config
        self.label_set = config.label_set
        self._load_detectors()

    def _load_detectors(self) -> None:
        from affectlens.vision.face_analysis import make_detectors

        self._detector, self._video_detector = make_detectors(self.detector_name, threads=self.threads,
                                                              verify=self.verify, small_faces=self.small_faces)
        # self._config, not self.config: a subclass may load its detectors before its session
        if self._config is not None and self._config.geometry_input and self._want_landmarks \
                and self.detector_name != "haar":
            from affectlens.vision.mediapipe_files import available

            self.landmarks = available()  # without the mesh files the geometry input reads "missing"
        if self.landmarks:
            from affectlens.vision.face_mesh import FaceMesh

            self._mesh = FaceMesh(threads=self.threads, verify=self.verify)

    @property
    def config(self) -> FaceModelConfig:
        self.load()
        assert self._config is not None
        return self._config

    # -- model ---------------------------------------------------------------------------
    def predict_crops(self, crops: np.ndarray, geometry: np.ndarray | None = None, *,
                      mirror: bool | None = None) -> np.ndarray:
        """Probabilities [N, L] for uint8 crops [N, H, W] (gray) or [N, H, W, 3], in batches.

        ``geometry`` [N, 9]: each face's ``geometry_vector``, for a model with a geometry input
        (None: every face reads "landmarks missing"); other models ignore it.  ``mirror``: average
        each crop with its mirror image (None: as the model's config says)."""
        return self._predict(crops, geometry, mirror)[0]

    def _predict(self, crops: np.ndarray, geometry: np.ndarray | None, mirror: bool | None
                 ) -> tuple[np.ndarray, np.ndarray | None]:
        """(probabilities [N, L]; with the mirror pair, also the crops' own probabilities, unmirrored)."""
        cfg = self.config
        if len(crops) == 0:
            empty = np.zeros((0, len(cfg.labels)), np.float32)
            return empty, empty
        mirror = cfg.mirror_average if mirror is None else mirror
        x = crops.astype(np.float32)
        x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
        x = (x * cfg.scale - cfg.mean) / cfg.std
        if cfg.geometry_input and geometry is None:
            from affectlens.features.face_geometry import geometry_vector

            geometry = np.repeat(geometry_vector(None)[None], len(x), axis=0)
        g = None if not cfg.geometry_input or geometry is None else np.asarray(geometry, np.float32)
        parts = [self._logits(x[b : b + self.batch_size], None if g is None else g[b : b + self.batch_size],
                              mirror=mirror) for b in range(0, len(x), self.batch_size)]
        probs = softmax(np.concatenate([p[0] for p in parts]), cfg.temperature)
        own = softmax(np.concatenate([p[1] for p in parts]), cfg.temperature) if mirror else None
        return probs, own

    def _logits(self, x: np.ndarray, geometry: np.ndarray | None = None, *, mirror: bool = False
                ) -> tuple[np.ndarray, np.ndarray]:
        """(logits [N, L], averaged with the mirror images' when ``mirror``; the crops' own logits)."""
        cfg = self.config
        feeds = {cfg.input_name: x}
        if mirror:  # one batch of 2N: the crops, then their mirror images (same geometry)
            feeds[cfg.input_name] = np.concatenate([x, x[..., ::-1]])
        if cfg.geometry_input and geometry is not None:
            feeds[cfg.geometry_input] = np.concatenate([geometry, geometry]) if mirror else geometry
        out = np.asarray(self._session.run([cfg.output_name], feeds)[0])
        if not mirror:
            return out, out
        return np.asarray((out[: len(x)] + out[len(x) :]) / 2.0), out[: len(x)]

    def _crops(self, faces: Sequence[_Face]) -> np.ndarray:
        from affectlens.vision.detect import crop_faces

        cfg = self.config
        gray = cfg.channels == 1
        h, w = cfg.input_size
        out = np.zeros((len(faces), h, w) if gray else (len(faces), h, w, 3), np.uint8)
        for i, face in enumerate(faces):
            margin = 0.0 if isinstance(face.frame, FaceCrop) else self._margin
            if self.align and face.mesh is not None:
                from affectlens.vision.face_mesh import aligned_crops

                out[i] = aligned_crops(face.frame.pixels, [face.box], [face.mesh], size=cfg.input_size,
                                       margin=margin, gray=gray)[0]
                continue
            out[i] = crop_faces(face.frame.pixels, [face.box], size=cfg.input_size, margin=margin, gray=gray)[0]
        return out

    @property
    def _margin(self) -> float:
        return 0.0 if self.detector_name == "none" else self.config.margin

    def _score_faces(self, faces: Sequence[_Face], *, video: bool = False, cache: Any = None
                     ) -> tuple[np.ndarray, list[list[Any]]]:
        """Probabilities and cues of ``faces``.  In video (``video=True``) the occlusion cues weigh
        against the crop's own probability, without the mirror pair (the label and scores keep the
        mirror average), and a ``RegionCueCache`` says which faces need them (``vision.explain``)."""
        from affectlens.vision.explain import occlusion_cues

        crops = self._crops(faces)
        geometry = self._geometry(faces)
        cheap = video and self.explain and self.config.mirror_average
        if cheap:
            probs, own = self._predict(crops, geometry, None)
        else:  # predict_crops: a subclass may run another runtime (peer_fer)
            probs, own = self.predict_crops(crops, geometry), None
        if not self.explain or not len(faces):
            return probs, [[] for _ in faces]
        score = (lambda x, g: self._predict(x, g, False)[0]) if cheap else self.predict_crops
        regions = occlusion_cues(score, crops, geometry, probs, self.config.labels, [f.crop_box for f in faces],
                                 reference=own, tracks=[(f.track_id, f.item) for f in faces], cache=cache)
        return probs, [list(c) + list(f.geometry or []) for c, f in zip(regions, faces, strict=True)]

    def _geometry(self, faces: Sequence[_Face]) -> np.ndarray | None:
        """Each face's geometry_vector [N, 9] for a model with a geometry input, else None."""
        if not self.config.geometry_input:
            return None
        from affectlens.features.face_geometry import geometry_vector

        if not faces:
            return np.zeros((0, 9), np.float32)
        return np.stack([f.geometry_input if f.geometry_input is not None else geometry_vector(f.mesh) for f in faces])

    def _whole(self, frame: ImageFrame, item: int, mesh: np.ndarray | None = None) -> list[_Face]:
        """The image as one face crop (its mesh measured as a crop unless given: then no face was
        detected and the mesh found one, ``whole_image``)."""
        from affectlens.vision.detect import WholeImageDetector, crop_box

        height, width = frame.pixels.shape[:2]
        crops = [_Face(item, box, crop_box(box, 0.0, width, height), frame, whole_image=mesh is not None)
                 for box in WholeImageDetector().detect(frame.pixels)]
        if self._mesh is not None and (self.config.geometry_input or mesh is not None):
            from affectlens.vision.face_analysis import face_crop_mesh, geometry_cues

            for face in crops:
                face.mesh = mesh if mesh is not None else face_crop_mesh(self._mesh, frame.pixels)
                face.geometry = geometry_cues(face.mesh, face.box) if self.explain else None
        return crops

    def _detect(self, frame: ImageFrame, item: int, *, video: bool = False, prepared: Any = None) -> list[_Face]:
        from affectlens.vision.detect import crop_box

        height, width = frame.pixels.shape[:2]
        if isinstance(frame, FaceCrop) or self.detector_name == "none":  # the image is the face, as cropped
            return self._whole(frame, item)
        detector = self._video_detector if video else self._detector
        boxes = detector.detect(frame.pixels) if prepared is None else detector.detect(frame.pixels, prepared)
        faces = [_Face(item, box, crop_box(box, self._margin, width, height), frame) for box in boxes]
        if self._mesh is not None:
            from affectlens.vision.face_analysis import geometry_cues, looks_like_a_face_crop

            for face in faces:
                face.mesh = self._mesh.landmarks(frame.pixels, face.box)
                if not video and self.explain:  # video: against the track's baseline, once tracked
                    face.geometry = geometry_cues(face.mesh, face.box)
            faces = [f for f in faces if f.mesh is not None]  # the mesh model saw no face: a false face
            if not faces and not video and looks_like_a_face_crop(width, height):
                # a face crop (FER-style datasets, cropped photos) can be too tight for the detector:
                # read the image as one face when the mesh model finds a face in it as a crop
                from affectlens.vision.face_analysis import face_crop_mesh

                mesh = face_crop_mesh(self._mesh, frame.pixels)
                if mesh is not None:
                    faces = self._whole(frame, item, mesh)
        return faces

    # -- inference -----------------------------------------------------------------------
    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        if not batch:
            return []
        self.load()
        from affectlens.vision.io import VideoFile, as_image_frame

        results: list[EmotionResult | None] = [None] * len(batch)
        faces: list[_Face] = []
        frames: dict[int, ImageFrame] = {}
        for i, value in enumerate(batch):
            if isinstance(value, VideoFile):
                results[i] = self.analyze_video(value)
                continue
            try:
                frame = as_image_frame(value)
            except InputError as exc:
                results[i] = EmotionResult((), getattr(value, "source", None), (str(exc),))
                continue
            frames[i] = frame
            faces.extend(self._detect(frame, i))
        probs, cues = self._score_faces(faces)
        per_item: dict[int, list[Segment]] = {i: [] for i in frames}
        for n, face in enumerate(faces):
            per_item[face.item].append(self._segment(face, probs[n], cues[n], n_in_frame=len(per_item[face.item])))
        whole = {f.item for f in faces if f.whole_image}
        for i, frame in frames.items():
            segments = tuple(per_item[i])
            warnings = () if segments else ("no face found",)
            if i in whole:
                warnings = ("no face detected: the image, face-sized, was read as one face crop "
                            "(the landmark model found a face in it)",)
            results[i] = EmotionResult(segments, frame.source, warnings, frame.record_id)
        return [r if r is not None else EmotionResult((), None, ("unreadable input",)) for r in results]

    def iter_video(self, video: Any, *, frames_per_batch: int = 16) -> Iterator[Segment]:
        """Segments of a ``VideoFile`` (or any iterable of ``ImageFrame``s), streamed in frame order."""
        from affectlens.vision.track import FaceTracker

        self.load()
        from affectlens.features.face_geometry import RunningBaseline, population_norm

        tracker = FaceTracker(max_misses=self.max_misses, alpha=self.smoothing)
        # a track's first frames have no baseline yet: they are compared with the population norm
        baseline = RunningBaseline(fallback=population_norm()) if self._mesh is not None else None
        options = getattr(video, "options", None)
        step = 1.0 / options.fps if options is not None else 0.0  # a frame stands for its sampling interval
        pending: list[_Face] = []
        from affectlens.vision.explain import RegionCueCache

        cache = RegionCueCache.for_video(self.region_cue_every, step) if self.explain else None
        prepare = getattr(self._video_detector, "prepare", None)  # BlazeFace: its resizes in the reading thread
        frame_iter = (video.prepared_frames(prepare) if hasattr(video, "prepared_frames")
                      else ((f, None) for f in (video.frames() if hasattr(video, "frames") else iter(video))))
        for n_frames, (frame, prepared) in enumerate(frame_iter, start=1):
            found = self._detect(frame, n_frames, video=True, prepared=prepared)
            for face, tid in zip(found, tracker.update([f.box for f in found]), strict=True):
                face.track_id = tid
                if baseline is not None:
                    self._track_geometry(face, baseline, tid)
            if baseline is not None:
                baseline.retain(tracker.tracks)  # the tracker retired a track: its baseline goes too
            pending.extend(found)
            if len(pending) >= self.batch_size or n_frames % frames_per_batch == 0:
                yield from self._flush(pending, tracker, step, cache)
                pending = []
        yield from self._flush(pending, tracker, step, cache)

    def _track_geometry(self, face: _Face, baseline: Any, track_id: int) -> None:
        """In video the face is read against its own track's baseline, like speech against its speaker:
        the model's geometry input (taken before this frame joins the baseline) and the cues."""
        from affectlens.features.face_geometry import LandmarkError, geometry_vector, measures
        from affectlens.vision.face_analysis import geometry_cues

        if self.config.geometry_input:
            face.geometry_input = geometry_vector(face.mesh, reference=baseline.reference(track_id))
        if self.explain:
            face.geometry = geometry_cues(face.mesh, face.box, baseline=baseline, track_id=track_id)
        elif face.mesh is not None:
            with contextlib.suppress(LandmarkError):  # an unmeasurable mesh does not move the baseline
                baseline.update(track_id, measures(face.mesh))

    def _flush(self, faces: list[_Face], tracker: Any, step: float, cache: Any = None) -> Iterator[Segment]:
        if not faces:
            return
        probs, cues = self._score_faces(faces, video=True, cache=cache)
        if cache is not None:
            cache.retain(tracker.tracks)  # retired tracks: their cues go too
        for n, face in enumerate(faces):
            raw = probs[n]
            smoothed = tracker.smooth(face.track_id, raw) if face.track_id in tracker.tracks else raw
            yield self._segment(face, smoothed, cues[n], raw=raw, step=step)

    def stream_video(self, video: Any) -> StreamedResult:
        """The video's result with its segments handed on as they come (flat memory over a long video);
        a video that stops decoding halfway keeps the segments before it, with the reason as a warning."""
        warnings: list[str] = []

        def segments() -> Iterator[Segment]:
            try:
                yield from self.iter_video(video)
            except InputError as exc:
                warnings.append(str(exc))
                return
            if getattr(video, "skipped", 0):
                warnings.append(f"{video.skipped} undecodable packet(s) skipped")
            if result.count == 0:
                warnings.append("no face found in the sampled frames")

        result = StreamedResult(segments(), getattr(video, "source", None), lambda: warnings,
                                getattr(video, "record_id", None))
        return result

    def analyze_video(self, video: Any) -> EmotionResult:
        return self.stream_video(video).collect()

    def _segment(self, face: _Face, probs: np.ndarray, cues: list[Any], *, raw: np.ndarray | None = None,
                 n_in_frame: int = 0, step: float = 0.0) -> Segment:
        from affectlens.taxonomy import vad_from_scores

        cfg = self.config
        scores = {label: float(p) for label, p in zip(cfg.labels, probs, strict=True)}
        top = max(scores, key=lambda k: scores[k])
        frame = face.frame
        extras: dict[str, Any] = {"box": list(face.box.as_tuple()), "detector_score": round(face.box.score, 3)}
        if face.whole_image:
            extras["whole_image"] = True  # no face detected: the image was read as one face crop
        if frame.frame_index is not None:
            extras["frame"] = frame.frame_index
        if raw is not None:
            extras["raw_top_label"] = cfg.labels[int(np.argmax(raw))]
        elif frame.time is None:
            extras["face"] = n_in_frame
        return Segment(
            modality=Modality.FACE,
            label_set=cfg.label_set,
            scores=scores,
            labels=(top,),
            vad=vad_from_scores(scores, cfg.label_set),
            confidence=scores[top],
            provenance=Provenance(self.name, self.version),
            cues=tuple(cues),
            source=frame.source,
            start=frame.time,
            end=round(frame.time + step, 4) if frame.time is not None else None,
            track_id=face.track_id,
            record_id=frame.record_id,
            extras=extras,
        )


def create(**params: Any) -> FaceOnnxRecognizer:
    return FaceOnnxRecognizer(**params)


def fusion_model_dir(version: str) -> Path:
    """The shipped folder of ``face.ferplus-wild-fusion.<version>``."""
    return DEFAULT_MODEL_DIR.parent / f"face-ferplus-wild-fusion-{version}"


def _fusion_factory(version: str, summary: str) -> Callable[..., FaceOnnxRecognizer]:
    """The registry's factory of ``face.ferplus-wild-fusion.<version>`` (``AFFECTLENS_FACE_MODEL_DIR``
    wins over the shipped folder, as for v1)."""
    name, model_dir = f"face.ferplus-wild-fusion.{version}", fusion_model_dir(version)

    def create_fusion_version(**params: Any) -> FaceOnnxRecognizer:
        params.setdefault("model_dir", os.environ.get(MODEL_DIR_ENV) or model_dir)
        params.setdefault("name", name)
        return FaceOnnxRecognizer(**params)

    create_fusion_version.__doc__ = f"``{name}``: {summary}"
    return create_fusion_version


FUSION_NAME, FUSION_MODEL_DIR = "face.ferplus-wild-fusion.v2", fusion_model_dir("v2")
PAIR_NAME, PAIR_MODEL_DIR = "face.ferplus-wild-fusion.v3", fusion_model_dir("v3")
TWIN_NAME, TWIN_MODEL_DIR = "face.ferplus-wild-fusion.v4", fusion_model_dir("v4")
create_fusion = _fusion_factory(
    "v2", "the CNN's appearance features + the landmark geometry in one head (FER+ and faces in the wild).")
create_fusion_pair = _fusion_factory(
    "v3", "v2's design, its confidence falling with the face's distance from the training faces.")
create_fusion_twin = _fusion_factory("v4", "v3 with a second CNN whose features join the head's input.")
create_fusion_soft = _fusion_factory(
    "v5", "v4's head design over v4's second CNN and a CNN trained without class weights (v1's CNN no longer runs).")


__all__ = ["DEFAULT_MODEL_DIR", "FUSION_MODEL_DIR", "FUSION_NAME", "PAIR_MODEL_DIR", "PAIR_NAME", "TWIN_MODEL_DIR",
           "TWIN_NAME", "FaceModelFilesMissing", "FaceModelIntegrityError", "FaceOnnxRecognizer", "create",
           "create_fusion", "create_fusion_pair", "create_fusion_soft", "create_fusion_twin", "fusion_model_dir"]
