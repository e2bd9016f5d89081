"""Speech emotion recognizer: long audio -> VAD utterances -> log-mel CNN (ONNX) + prosodic cues.

One input (an ``AudioFile`` from ``processing``/``audio.open_audio``, or an in-memory
``AudioClip``) gives one ``EmotionResult`` whose segments are the utterances that voice
activity detection found, in time order, each with the 8 RAVDESS categories, VAD from
``taxonomy.vad_from_scores`` and prosody cues.  Audio is streamed in chunks; what is kept
per utterance is its log-mel (float16, ~13 KB per second of speech) and a dozen prosodic
numbers, so a one-hour file needs tens of MB, not the 230 MB its samples would.

Normalisation (see ``docs/speech.md``): the model's log-mel input is standardised per mel
band by reference statistics from unlabelled audio of the same input: all speech segments
of the file when it has at least ``min_file_segments`` segments and ``min_file_speech_s``
seconds of speech ("file" mode, what the recipe calls speaker mode: it assumes one main
speaker per file), else the segment itself ("utterance" mode).  Prosody cues use the same
choice: z-scores against the file's own segments, or against reference values measured on
RAVDESS when the file is too short to have a baseline.

The model folder holds the ONNX file(s) that ``config.json`` lists in ``onnx_files``
(default ``model.onnx``; the shipped model is an ensemble, ``model_0_cnn.onnx`` and
``model_1_tdnn.onnx``, whose temperature-scaled probabilities are averaged), each with input
``logmel`` [batch, 64, frames] and output ``logits`` [batch, 8]; ``config.json`` (labels,
temperature, normalisation settings, prosody reference, sha256 of every ONNX file),
``metrics.json`` and ``MODEL_CARD.md``.  When ``config.json`` names a ``functional_member``
(the shipped model does), file mode adds a third member: logistic regression on 218 acoustic
functionals per segment (``features.functionals``) z-scored against the file's own segments;
with an ``utterance_file`` (shipped too), utterance mode adds one on the raw functionals.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.calibration import softmax
from affectlens.inputs import AudioClip
from affectlens.model_folder import ModelFilesError, ModelFilesMissing, ModelFolder
from affectlens.recognizer_params import RecognizerParams
from affectlens.types import EmotionResult, Modality, Provenance, Segment

DEFAULT_NAME = "speech.ravdess-cnn.v1"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "speech-ravdess-cnn-v1"


# the one error type of model folders (``model_folder``), under the names this module always had
SpeechModelError = ModelFilesError
SpeechModelFilesMissing = ModelFilesMissing


@dataclass(frozen=True)
class SpeechModelConfig:
    labels: tuple[str, ...]
    label_set: str
    temperature: float
    min_std: float
    min_file_segments: int
    min_file_speech_s: float
    prosody_median: dict[str, float]
    prosody_spread: dict[str, float]
    sha256: dict[str, str]
    version: str
    onnx_files: tuple[str, ...] = ("model.onnx",)
    functional_member: dict[str, Any] | None = None

    @classmethod
    def load(cls, path: Path) -> SpeechModelConfig:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SpeechModelConfig:
        norm = raw.get("normalisation", {})
        ref = raw.get("prosody_reference", {})
        return cls(
            labels=tuple(raw["labels"]),
            label_set=raw.get("label_set", "ravdess"),
            temperature=float(raw.get("temperature", 1.0)),
            min_std=float(norm.get("min_std", 0.5)),
            min_file_segments=int(norm.get("min_file_segments", 3)),
            min_file_speech_s=float(norm.get("min_file_speech_s", 5.0)),
            prosody_median=dict(ref.get("median", {})),
            prosody_spread=dict(ref.get("spread", {})),
            sha256=dict(raw.get("sha256", {})),
            version=str(raw.get("version", "v1")),
            onnx_files=tuple(raw.get("onnx_files", ["model.onnx"])),
            functional_member=raw.get("functional_member"),
        )


@dataclass(frozen=True)
class FunctionalMember:
    """An acoustic-functionals member: logistic regression on 218 statistics per segment.

    Trained by ``affectlens_recipes/speech_functionals.py``; the weights are plain JSON lists.  The
    file-mode member z-scores the statistics against the file's segments first; the
    utterance-mode member (no ``std_floor``) reads them raw.  Its probabilities are averaged
    with the networks' (each scaled by the networks' temperature) and the mean is scaled by
    this member's ``temperature``, as in the cross-validation that measured it.
    """

    std_floor: np.ndarray | None  # None: raw functionals (the utterance-mode member), no z-scoring
    scaler_mean: np.ndarray
    scaler_scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float

    @classmethod
    def load(cls, path: Path, temperature: float) -> FunctionalMember:
        from affectlens.features.functionals import FUNCTIONAL_NAMES

        raw = json.loads(path.read_text(encoding="utf-8"))
        if tuple(raw["names"]) != FUNCTIONAL_NAMES:
            raise SpeechModelError(f"{path} was trained on other functionals than this version computes")
        def array(key: str) -> np.ndarray:
            return np.asarray(raw[key], np.float64)

        return cls(array("std_floor") if "std_floor" in raw else None, array("scaler_mean"), array("scaler_scale"),
                   array("coef"), array("intercept"), temperature)

    def probabilities(self, functionals: np.ndarray) -> np.ndarray:
        """(segments, features) raw functionals of one file -> (segments, classes) probabilities."""
        from affectlens.features.functionals import zscore_rows

        if self.std_floor is not None:
            functionals = zscore_rows(functionals, floor=self.std_floor)
        x = (functionals - self.scaler_mean) / self.scaler_scale
        return softmax(x @ self.coef.T + self.intercept)


@dataclass
class _Utterance:
    start: float
    end: float
    logmel: np.ndarray  # float16 (64, frames)
    prosody: dict[str, float]
    functionals: np.ndarray | None = None  # only when the model has a functional member


@dataclass
class _Collected:
    utterances: list[_Utterance] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


class SpeechOnnxRecognizer(RecognizerParams):
    """The shipped speech model (or any folder of the same layout, ``model_dir=``)."""

    RUNTIME_PARAMS = frozenset({"normalisation", "chunk_seconds"})  # analysis only: with_params copies share the model

    modality = Modality.SPEECH
    label_set = "ravdess"

    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        name: str = DEFAULT_NAME,
        vad_params: Any = None,
        normalisation: str = "auto",
        chunk_seconds: float = 30.0,
        threads: int | None = None,  # None: runtime_threads decides (CPUs, AFFECTLENS_THREADS)
        vad: Any = None,
    ) -> None:
        if normalisation not in ("auto", "file", "utterance"):
            raise ValueError(f"normalisation must be 'auto', 'file' or 'utterance', got {normalisation!r}")
        self.model_dir = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
        self.name = name
        self.version = name.rsplit(".", 1)[-1]
        self.vad_params = vad_params
        self.normalisation = normalisation
        self.chunk_seconds = chunk_seconds
        self.threads = threads
        self.vad = vad  # anything with load/reset/push/flush (tests inject a stand-in)
        self._session: Any = None
        self._functional: dict[str, FunctionalMember] = {}  # normalisation mode -> member
        self.config: SpeechModelConfig | None = None

    # -- loading --------------------------------------------------------------------------------

    def load(self) -> None:
        if self._session is not None:
            return
        folder = ModelFolder.read(self.model_dir, kind="speech", required_keys=("labels",))
        config = SpeechModelConfig.from_dict(folder.config)
        self._check_files(folder, config.onnx_files)
        import onnxruntime as ort

        from affectlens.runtime_threads import session_options

        # the ensemble members run one after another: one pool each, never at once
        options = session_options(ort, threads=self.threads, optimize=False)
        sessions = [ort.InferenceSession(str(self.model_dir / f), sess_options=options,
                                         providers=["CPUExecutionProvider"]) for f in config.onnx_files]
        self._load_vad()
        member = config.functional_member
        functional = {}
        if member is not None:
            functional["file"] = FunctionalMember.load(self.model_dir / member["file"],
                                                       float(member.get("temperature_file", 1.0)))
            if member.get("utterance_file"):
                functional["utterance"] = FunctionalMember.load(self.model_dir / member["utterance_file"],
                                                                float(member.get("temperature_utterance", 1.0)))
        self._functional = functional
        self.config = config
        self.label_set = config.label_set
        self._session = sessions

    @staticmethod
    def _check_files(folder: ModelFolder, files: Sequence[str]) -> None:
        """Raise unless every file in ``files`` and every pinned one is in the folder, with its pinned hash."""
        folder.check_files((*files, *folder.config.get("sha256", {})))

    def _load_vad(self) -> None:
        if self.vad is None:
            from affectlens.audio.vad import SileroVad

            self.vad = SileroVad()
        self.vad.load()
        if self.vad_params is None:
            from affectlens.audio.vad import VadParams

            self.vad_params = VadParams()

    # -- analysis -------------------------------------------------------------------------------

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        if not batch:
            return []
        self.load()
        return [self._analyze_one(item) for item in batch]

    def _analyze_one(self, item: Any) -> EmotionResult:
        from affectlens.audio.decode import AudioFile

        if isinstance(item, AudioFile):
            collected = self._collect(item.chunks(self.chunk_seconds), 0.0, item)
            return self._result(collected, item.source, item.record_id)
        if isinstance(item, AudioClip):
            try:
                chunks = self._clip_chunks(item)
            except ValueError as exc:
                return EmotionResult((), item.source, (str(exc),), item.record_id)
            collected = self._collect(chunks, float(item.offset or 0.0), None)
            if item.sample_rate < 16_000:
                collected.warnings.insert(0, f"low sample rate ({item.sample_rate} Hz, telephone band): upsampled "
                                             "to 16000 Hz; expect lower accuracy")
            return self._result(collected, item.source, item.record_id)
        kind = type(item).__name__
        return EmotionResult((), None, (f"expected audio (an AudioClip or an audio file), got {kind}",))

    def _clip_chunks(self, clip: AudioClip) -> Iterator[np.ndarray]:
        from affectlens.audio.decode import to_mono_16k

        samples = np.asarray(clip.samples)
        if samples.size == 0:
            raise ValueError("empty audio: the clip has no samples")
        if not np.issubdtype(samples.dtype, np.number):
            raise ValueError(f"audio samples must be numbers, got dtype {samples.dtype}")
        if np.issubdtype(samples.dtype, np.floating) and not np.isfinite(samples).all():
            raise ValueError("audio has NaN or infinite samples")
        mono = to_mono_16k(samples, int(clip.sample_rate))
        step = int(self.chunk_seconds * 16_000)
        return (mono[i:i + step] for i in range(0, mono.size, step))

    def _utterance(self, samples: np.ndarray, start: float, end: float) -> _Utterance:
        """What the heads need of one speech segment (subclasses with other features override this)."""
        from affectlens.features.functionals import acoustic_functionals
        from affectlens.features.prosody import prosody_features
        from affectlens.features.spectral import log_mel

        logmel = log_mel(samples)
        functionals = acoustic_functionals(samples, logmel) if self._functional else None
        return _Utterance(start, end, logmel.astype(np.float16), prosody_features(samples), functionals)

    def _collect(self, chunks: Iterator[np.ndarray], offset: float, audio_file: Any) -> _Collected:
        from affectlens.audio.decode import AudioDecodeError
        from affectlens.audio.vad import SegmentationStats, iter_utterances

        out = _Collected()
        stats = SegmentationStats()
        try:
            for utt in iter_utterances(chunks, self.vad, self.vad_params, stats):
                out.utterances.append(self._utterance(utt.samples, round(offset + utt.start, 3),
                                                      round(offset + utt.end, 3)))
        except AudioDecodeError as exc:
            out.warnings.append(f"{exc}; kept the {len(out.utterances)} segment(s) decoded before")
        return self._close(out, stats, audio_file)

    def _close(self, out: _Collected, stats: Any, audio_file: Any) -> _Collected:
        """``out`` with the file's decoding warnings, the speech seconds and the skipped bursts (``stats``)."""
        if audio_file is not None:
            out.warnings.extend(audio_file.warnings)
        out.seconds = stats.seconds
        if stats.skipped_short:
            out.warnings.append(f"{stats.skipped_short} speech burst(s) shorter than "
                                f"{self.vad_params.min_segment_s:g} s skipped")
        return out

    def _result(self, collected: _Collected, source: str | None, record_id: str | None) -> EmotionResult:
        assert self.config is not None
        if not collected.utterances:
            return _no_speech(collected, source, record_id)
        warnings = list(collected.warnings)
        utterances = collected.utterances
        mode = self._mode(utterances)
        mean = std = None
        if mode == "file":
            frames = np.concatenate([u.logmel.astype(np.float32) for u in utterances], axis=1)
            mean, std = frames.mean(axis=1), frames.std(axis=1)
        from affectlens.features.prosody import Baseline

        if len(utterances) >= self.config.min_file_segments:
            baseline = Baseline.from_segments([u.prosody for u in utterances], "this file's median")
        else:
            baseline = Baseline(self.config.prosody_median, self.config.prosody_spread, "typical RAVDESS speech")
        member = self._functional.get(mode)
        functional = None
        if member is not None:
            functional = member.probabilities(np.stack([u.functionals for u in utterances
                                                        if u.functionals is not None]))
        segments = tuple(self._segment(u, mean, std, mode, baseline, source, record_id,
                                       None if functional is None else functional[i], member)
                         for i, u in enumerate(utterances))
        return EmotionResult(segments, source, tuple(warnings), record_id)

    def _mode(self, utterances: list[_Utterance]) -> str:
        assert self.config is not None
        if self.normalisation != "auto":
            return self.normalisation
        speech = sum(u.end - u.start for u in utterances)
        enough = len(utterances) >= self.config.min_file_segments and speech >= self.config.min_file_speech_s
        return "file" if enough else "utterance"

    def _segment(self, utt: _Utterance, mean: np.ndarray | None, std: np.ndarray | None, mode: str,
                 baseline: Any, source: str | None, record_id: str | None,
                 functional: np.ndarray | None = None, member: FunctionalMember | None = None) -> Segment:
        from affectlens.features.spectral import normalise_log_mel
        from affectlens.taxonomy import vad_from_scores

        assert self.config is not None
        x = normalise_log_mel(utt.logmel.astype(np.float32), mean, std, min_std=self.config.min_std)
        # several files: an ensemble, temperature-scaled probabilities averaged
        members = [softmax(session.run(["logits"], {"logmel": x[None]})[0][0], self.config.temperature)
                   for session in self._session]
        probs = np.mean(members, axis=0)
        if functional is not None and member is not None:
            probs = softmax(np.log(np.clip(np.mean([*members, functional], axis=0), 1e-9, 1.0)), member.temperature)
        scores = {label: float(p) for label, p in zip(self.config.labels, probs, strict=True)}
        top = max(scores, key=lambda k: scores[k])
        vad = vad_from_scores(scores, self.config.label_set)
        return Segment(
            modality=Modality.SPEECH, label_set=self.config.label_set, scores=scores, labels=(top,), vad=vad,
            confidence=scores[top], provenance=Provenance(self.name, self.version),
            cues=_prosody_cues(utt, top, self.config.label_set, baseline), source=source,
            start=utt.start, end=utt.end, record_id=record_id,
            extras={"normalisation": mode, "prosody": _rounded_prosody(utt)},
        )


def _no_speech(collected: _Collected, source: str | None, record_id: str | None) -> EmotionResult:
    """The empty result of a file where VAD found no speech (the warning after a decoding failure's)."""
    warnings = list(collected.warnings)
    failed = any(w.startswith("decoding ") or w.startswith("cannot decode") for w in warnings)
    no_speech = f"no speech found in {collected.seconds:.1f} s of audio (voice activity detection)"
    warnings.insert(1 if failed else 0, no_speech)
    return EmotionResult((), source, tuple(warnings), record_id)


def _prosody_cues(utt: _Utterance, top: str, label_set: str, baseline: Any) -> tuple[Any, ...]:
    """Prosody cues of one utterance, weighted toward or against the top label's arousal."""
    from affectlens.features.prosody import prosody_cues
    from affectlens.taxonomy import get_label_set
    from affectlens.types import Cue

    top_arousal = get_label_set(label_set).anchors[top].arousal
    return tuple(
        Cue(kind="prosody", phrase=c.phrase,
            weight=round(c.arousal_direction * math.copysign(1.0, top_arousal) * min(abs(c.z) / 3.0, 1.0), 4),
            label=top, time=(utt.start, utt.end), value=c.z)
        for c in prosody_cues(utt.prosody, baseline)
    )


def _rounded_prosody(utt: _Utterance) -> dict[str, float]:
    return {k: round(v, 3) for k, v in utt.prosody.items() if math.isfinite(v)}


def create(**params: Any) -> SpeechOnnxRecognizer:
    """Registry factory for ``speech.ravdess-cnn.v1``."""
    return SpeechOnnxRecognizer(**params)
