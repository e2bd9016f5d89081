"""Test helpers: a keyword recognizer, sample inputs, tiny models and ``check_recognizer``.

``check_recognizer`` is to recognizers what scikit-learn's ``check_estimator`` is to
estimators: anything that passes it can be used by ``processing``, the CLI and the service.
Nothing here imports a heavy library at import time (``onnx``/``tokenizers``/``numpy`` load
inside the functions that need them).
"""

from __future__ import annotations

import builtins
import io
import json
import math
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from affectlens.bench.datasets import MELD_LABELS
from affectlens.inputs import AudioClip, ImageFrame, InputError, TextItem, as_text_item
from affectlens.protocols import Recognizer
from affectlens.recognizer_params import RecognizerParams, check_params
from affectlens.types import Cue, EmotionResult, Modality, Provenance, Segment

# ---------------------------------------------------------------------------------------------
# DummyRecognizer
# ---------------------------------------------------------------------------------------------

#: Ekman emotion -> keywords.  A demo lexicon written for tests, not a research resource.
DUMMY_LEXICON: Mapping[str, tuple[str, ...]] = {
    "joy": (
        "happy",
        "glad",
        "joy",
        "joyful",
        "love",
        "loved",
        "lovely",
        "great",
        "wonderful",
        "delighted",
        "awesome",
        "thanks",
        "thank",
        "excited",
        "fun",
        "enjoy",
        "enjoyed",
        "best",
        "smile",
        "proud",
    ),
    "sadness": (
        "sad",
        "unhappy",
        "miss",
        "lonely",
        "cry",
        "cried",
        "crying",
        "grief",
        "depressed",
        "sorry",
        "heartbroken",
        "tears",
        "lost",
        "disappointed",
        "alone",
    ),
    "anger": (
        "angry",
        "furious",
        "mad",
        "hate",
        "hated",
        "annoyed",
        "rage",
        "outraged",
        "irritated",
        "annoying",
        "unacceptable",
    ),
    "fear": (
        "afraid",
        "scared",
        "fear",
        "terrified",
        "worried",
        "nervous",
        "anxious",
        "panic",
        "frightened",
        "dread",
    ),
    "disgust": ("disgusting", "gross", "disgusted", "revolting", "nasty", "sickening", "vile"),
    "surprise": (
        "surprised",
        "wow",
        "amazing",
        "unexpected",
        "shocked",
        "astonished",
        "suddenly",
        "unbelievable",
    ),
}
#: other names the same emotions may have in a label set
_ALIASES: Mapping[str, tuple[str, ...]] = {
    "joy": ("joy", "happiness", "happy"),
    "sadness": ("sadness", "sad"),
    "anger": ("anger", "angry"),
    "fear": ("fear", "fearful"),
    "disgust": ("disgust",),
    "surprise": ("surprise", "surprised"),
}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


class DummyRecognizer(RecognizerParams):
    """Deterministic keyword matcher over the ``ekman`` label set (for tests and demos).

    Each keyword found in a text is a ``word`` cue with its character span; scores are
    keyword counts (plus a neutral share and a little smoothing) normalised to sum to 1;
    ``labels`` are the labels scoring at least ``threshold`` (else the top one); VAD
    comes from ``taxonomy.vad_from_scores``.
    """

    RUNTIME_PARAMS = frozenset({"threshold"})  # analysis only: with_params copies share the model

    name = "dummy.keywords.v1"
    version = "v1"
    modality = Modality.TEXT
    label_set = "ekman"

    def __init__(self, *, threshold: float = 0.3) -> None:
        self.threshold = threshold
        self._labels: tuple[str, ...] | None = None
        self._keywords: dict[str, str] = {}

    @property
    def is_loaded(self) -> bool:
        return self._labels is not None

    def load(self) -> None:
        if self._labels is not None:
            return
        from affectlens.taxonomy import get_label_set

        labels = tuple(get_label_set(self.label_set).labels)
        keywords: dict[str, str] = {}
        for emotion, words in DUMMY_LEXICON.items():
            target = next((a for a in _ALIASES[emotion] if a in labels), None)
            if target is not None:
                keywords.update(dict.fromkeys(words, target))
        self._keywords = keywords
        self._labels = labels

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        self.load()
        return [self._analyze_one(value) for value in batch]

    def _analyze_one(self, value: Any) -> EmotionResult:
        try:
            item = as_text_item(value)
        except InputError as exc:
            return EmotionResult((), warnings=(str(exc),))
        if not item.text.strip():
            return EmotionResult((), item.source, ("empty text",), item.record_id)
        assert self._labels is not None
        cues: list[Cue] = []
        for match in _WORD.finditer(item.text):
            label = self._keywords.get(match.group().lower())
            if label is not None:
                cues.append(Cue("word", match.group(), 1.0, label, (match.start(), match.end())))
        counts = dict.fromkeys(self._labels, 0.01)  # smoothing: no label is ever exactly 0
        for cue in cues:
            counts[str(cue.label)] += 1.0
        if "neutral" in counts:
            counts["neutral"] += 0.2 if cues else 1.0
        total = sum(counts.values())
        scores = {label: count / total for label, count in counts.items()}
        for i, cue in enumerate(cues):  # weight: the share of the evidence this word carries
            cues[i] = Cue(cue.kind, cue.phrase, round(1.0 / len(cues), 4), cue.label, cue.span)
        top = max(scores, key=lambda k: scores[k])
        labels = tuple(
            sorted((k for k, v in scores.items() if v >= self.threshold), key=lambda k: -scores[k])
        )
        from affectlens.taxonomy import vad_from_scores

        segment = Segment(
            modality=Modality.TEXT,
            label_set=self.label_set,
            scores=scores,
            labels=labels or (top,),
            vad=vad_from_scores(scores, self.label_set),
            confidence=scores[top],
            provenance=Provenance(self.name, self.version),
            cues=tuple(cues),
            source=item.source,
            text=item.text,
            speaker=item.speaker,
            turn=item.turn,
            start=item.start,
            end=item.end,
            record_id=item.record_id,
        )
        return EmotionResult((segment,), item.source, (), item.record_id)


# ---------------------------------------------------------------------------------------------
# sample inputs
# ---------------------------------------------------------------------------------------------

SAMPLE_TEXTS: tuple[str, ...] = (
    "I am so happy and grateful for your help, thank you!",
    "This is disgusting. I hate waiting in line for hours.",
    "I'm scared and worried about tomorrow's exam.",
    "Wow, I did not expect that at all!",
    "The meeting is at 3 pm in room 204.",
    "Je suis très content 😊 — mais un peu triste aussi.",
    "I miss her so much; the house feels lonely without her. " * 4,
)


def sample_inputs_for(modality: Modality) -> list[Any]:
    """Small synthetic inputs of a modality (texts, a tone and silence, noise images)."""
    if modality in (Modality.TEXT, Modality.DIALOGUE):
        return list(SAMPLE_TEXTS)
    import numpy as np

    if modality == Modality.SPEECH:
        rate = 16_000
        t = np.arange(rate, dtype=np.float32) / rate
        tone = (0.3 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)
        return [AudioClip(tone, rate, source="tone-220hz"), AudioClip(np.zeros(rate // 2, np.float32), rate)]
    if modality == Modality.FACE:
        rng = np.random.default_rng(0)
        noise = rng.integers(0, 256, (96, 96, 3), dtype=np.uint8)
        return [ImageFrame(noise, source="noise"), ImageFrame(np.full((64, 64, 3), 128, np.uint8))]
    return []


# ---------------------------------------------------------------------------------------------
# check_recognizer
# ---------------------------------------------------------------------------------------------

HEAVY_MODULES = (
    "onnxruntime",
    "torch",
    "tensorflow",
    "cv2",
    "transformers",
    "sentence_transformers",
    "mediapipe",
    "librosa",
)
WEIGHT_SUFFIXES = frozenset(
    {
        ".onnx",
        ".ort",
        ".pt",
        ".pth",
        ".bin",
        ".safetensors",
        ".ckpt",
        ".h5",
        ".tflite",
        ".pb",
        ".pkl",
        ".joblib",
        ".npz",
        ".npy",
    }
)


class RecognizerCheckFailed(AssertionError):
    """``check_recognizer`` found contract violations; the message lists every one."""


@dataclass
class CheckReport:
    passed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def check_recognizer(
    recognizer: Recognizer,
    sample_inputs: Sequence[Any] | None = None,
    *,
    factory: Callable[[], Recognizer] | None = None,
) -> CheckReport:
    """Run every contract check on ``recognizer``; raise ``RecognizerCheckFailed`` listing failures.

    Checks: attributes; parameters (``get_params`` / ``with_params``: ``recognizer_params.check_params``);
    ``__init__`` imports no heavy library, opens no weight file and
    creates no onnxruntime session (a fresh instance must then analyze without ``load()``);
    ``load()`` twice is fine; ``analyze([]) == []``; one result per input, in order, the
    same in a batch as alone; scores cover exactly the label set, in [0, 1]; labels among
    the scores; confidence in [0, 1]; VAD in [-1, 1]; cues well-formed (spans inside the
    text); provenance = (name, version); empty / whitespace texts give an empty result
    with a warning; strict-JSON round trip (``from_json(to_json())`` serialises to the
    same JSON: equal up to the 4-decimal rounding of the JSON form); deterministic.

    ``sample_inputs`` are valid inputs of the recognizer's modality (default:
    ``sample_inputs_for(recognizer.modality)``).  ``factory`` builds a fresh instance
    (default: ``type(recognizer)()``) to check that construction loads no weights and
    that ``analyze`` works without an explicit ``load()``.
    """
    samples = list(sample_inputs) if sample_inputs is not None else sample_inputs_for(recognizer.modality)
    report = CheckReport()
    build = factory or _default_factory(recognizer)
    checks: list[tuple[str, Callable[[], str | None]]] = [
        ("attributes", lambda: _check_attributes(recognizer)),
        ("params", lambda: check_params(recognizer, samples)),
        ("init_does_not_load", lambda: _check_lazy_init(build)),
        ("load_is_idempotent", lambda: _check_load_twice(recognizer)),
        ("empty_batch", lambda: _check_empty_batch(recognizer)),
        ("results_well_formed", lambda: _check_results(recognizer, samples)),
        ("batch_order", lambda: _check_batch_order(recognizer, samples)),
        ("bad_items", lambda: _check_bad_items(recognizer, samples)),
        ("json_round_trip", lambda: _check_json(recognizer, samples)),
        ("deterministic", lambda: _check_deterministic(recognizer, samples)),
    ]
    for name, check in checks:
        try:
            skipped = check()
        except AssertionError as exc:
            report.failed[name] = str(exc) or "assertion failed"
        except Exception as exc:
            report.failed[name] = f"raised {type(exc).__name__}: {exc}"
        else:
            if skipped:
                report.skipped[name] = skipped
            else:
                report.passed.append(name)
    if report.failed:
        lines = "\n".join(f"  - {name}: {why}" for name, why in report.failed.items())
        raise RecognizerCheckFailed(
            f"{getattr(recognizer, 'name', recognizer)!r} fails {len(report.failed)} check(s):\n{lines}"
        )
    return report


def _default_factory(recognizer: Recognizer) -> Callable[[], Recognizer] | None:
    cls = type(recognizer)
    return lambda: cls()


def _check_attributes(rec: Recognizer) -> None:
    from affectlens.taxonomy import get_label_set

    for attr in ("name", "version", "label_set"):
        value = getattr(rec, attr, None)
        assert isinstance(value, str) and value, f"{attr} must be a non-empty str, got {value!r}"
    assert isinstance(rec.modality, Modality), f"modality must be a Modality, got {rec.modality!r}"
    assert rec.name.endswith(rec.version), f"name {rec.name!r} should end with its version {rec.version!r}"
    assert callable(getattr(rec, "load", None)) and callable(getattr(rec, "analyze", None)), (
        "load() and analyze() are required"
    )
    get_label_set(rec.label_set)  # raises for an unknown label set


def _check_lazy_init(build: Callable[[], Recognizer] | None) -> str | None:
    if build is None:
        return "no factory to build a fresh instance"
    before = set(sys.modules)
    opened: list[str] = []
    real_open = builtins.open

    def spy_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | Path):
            opened.append(str(file))
        return real_open(file, *args, **kwargs)

    builtins.open = spy_open
    io.open = spy_open  # pathlib opens through io.open
    sessions: list[str] = []
    ort = sys.modules.get("onnxruntime")
    real_session = getattr(ort, "InferenceSession", None)
    if ort is not None and real_session is not None:

        def spy_session(*args: Any, **kwargs: Any) -> Any:
            sessions.append(str(args[0]) if args else "?")
            return real_session(*args, **kwargs)

        setattr(ort, "InferenceSession", spy_session)  # noqa: B010
    started = time.perf_counter()
    try:
        try:
            fresh = build()
        except TypeError as exc:
            return f"cannot build a fresh instance without arguments ({exc}); pass factory="
    finally:
        builtins.open = real_open
        io.open = real_open
        if ort is not None and real_session is not None:
            setattr(ort, "InferenceSession", real_session)  # noqa: B010
    elapsed = time.perf_counter() - started
    heavy = sorted({m.split(".")[0] for m in set(sys.modules) - before} & set(HEAVY_MODULES))
    weights = [p for p in opened if Path(p).suffix.lower() in WEIGHT_SUFFIXES]
    assert not heavy, f"__init__ imported {', '.join(heavy)}: import heavy libraries in load()"
    assert not weights, f"__init__ opened weight files {weights}: load them in load()"
    assert not sessions, "__init__ created an onnxruntime session: create it in load()"
    assert elapsed < 1.0, f"__init__ took {elapsed:.2f} s: it should only store parameters"
    samples = sample_inputs_for(fresh.modality)[:1]
    if samples:  # analyze must load lazily when load() was never called
        assert len(fresh.analyze(samples)) == 1, "a fresh instance must analyze without an explicit load()"
    return None


def _check_load_twice(rec: Recognizer) -> None:
    rec.load()
    rec.load()


def _check_empty_batch(rec: Recognizer) -> None:
    out = rec.analyze([])
    assert out == [], f"analyze([]) must return [], got {out!r}"


def _check_results(rec: Recognizer, samples: Sequence[Any]) -> str | None:
    if not samples:
        return "no sample inputs"
    results = rec.analyze(list(samples))
    assert isinstance(results, list), f"analyze must return a list, got {type(results).__name__}"
    assert len(results) == len(samples), f"{len(results)} results for {len(samples)} inputs"
    labels = _labels_of(rec.label_set)
    for i, (sample, result) in enumerate(zip(samples, results, strict=True)):
        assert isinstance(result, EmotionResult), f"result {i} is a {type(result).__name__}"
        text = _text_of(sample)
        if rec.modality == Modality.TEXT:
            assert result.segments, f"result {i}: a valid text must give at least one segment"
        for seg in result.segments:
            _check_segment(rec, seg, labels, text, where=f"result {i}")
    return None


def _check_segment(
    rec: Recognizer, seg: Segment, labels: tuple[str, ...], text: str | None, where: str
) -> None:
    assert seg.modality == rec.modality, f"{where}: modality {seg.modality} != {rec.modality}"
    assert seg.label_set == rec.label_set, f"{where}: label_set {seg.label_set!r} != {rec.label_set!r}"
    assert set(seg.scores) == set(labels), (
        f"{where}: score keys differ from label set {rec.label_set!r}: "
        f"missing {sorted(set(labels) - set(seg.scores))}, extra {sorted(set(seg.scores) - set(labels))}"
    )
    for label, score in seg.scores.items():
        assert _finite(score) and 0.0 <= score <= 1.0, f"{where}: score {label}={score} outside [0, 1]"
    assert set(seg.labels) <= set(seg.scores), f"{where}: labels {seg.labels} not among the scores"
    assert _finite(seg.confidence) and 0.0 <= seg.confidence <= 1.0, (
        f"{where}: confidence {seg.confidence} outside [0, 1]"
    )
    if seg.vad is not None:
        for dim in ("valence", "arousal", "dominance"):
            value = getattr(seg.vad, dim)
            assert _finite(value) and -1.0 <= value <= 1.0, f"{where}: {dim}={value} outside [-1, 1]"
    assert seg.provenance == Provenance(rec.name, rec.version), (
        f"{where}: provenance {seg.provenance} != ({rec.name}, {rec.version})"
    )
    if text is not None and seg.text is not None:
        assert seg.text == text, f"{where}: segment text differs from the input (wrong order?)"
    cue_text = seg.text if seg.text is not None else text
    for cue in seg.cues:
        assert isinstance(cue.kind, str) and cue.kind, f"{where}: cue without kind: {cue}"
        assert isinstance(cue.phrase, str), f"{where}: cue phrase must be a str: {cue}"
        assert _finite(cue.weight), f"{where}: cue weight must be finite: {cue}"
        assert cue.label is None or cue.label in seg.scores, f"{where}: cue label {cue.label!r} unknown"
        if cue.span is not None:
            assert cue_text is not None, f"{where}: a cue has a span but the segment has no text"
            start, end = cue.span
            assert 0 <= start < end <= len(cue_text), (
                f"{where}: cue span {cue.span} outside the text (length {len(cue_text)})"
            )
        if cue.time is not None:
            assert cue.time[0] <= cue.time[1], f"{where}: cue time {cue.time} is reversed"
        if cue.region is not None:
            assert cue.region[2] >= 0 and cue.region[3] >= 0, f"{where}: cue region {cue.region} negative"


def _check_batch_order(rec: Recognizer, samples: Sequence[Any]) -> str | None:
    """A batch gives what the items give one by one, in the same order (loose: int8 kernels
    quantise activations per batch)."""
    if len(samples) < 2:
        return "needs at least two sample inputs"
    batched = rec.analyze(list(samples))
    for i, sample in enumerate(samples):
        alone = rec.analyze([sample])[0]
        assert len(alone.segments) == len(batched[i].segments), f"input {i}: segment count depends on batch"
        for a, b in zip(alone.segments, batched[i].segments, strict=True):
            worst = max((abs(a.scores[k] - b.scores.get(k, math.inf)) for k in a.scores), default=0.0)
            assert worst <= 0.05, f"input {i}: scores differ by {worst:.3f} between batch and single call"
    return None


def _check_bad_items(rec: Recognizer, samples: Sequence[Any]) -> str | None:
    if rec.modality not in (Modality.TEXT, Modality.DIALOGUE):
        return f"no generic bad inputs for {rec.modality.value}"
    good = samples[0] if samples else SAMPLE_TEXTS[0]
    bad = ["", "   ", "\n\t"]
    results = rec.analyze([good, *bad, good])
    assert len(results) == len(bad) + 2, "bad items must not change the number of results"
    for value, result in zip(bad, results[1:-1], strict=True):
        assert result.is_empty, f"{value!r} must give an empty result, got {len(result)} segment(s)"
        assert result.warnings, f"{value!r} must give a warning saying why the result is empty"
    assert not results[0].is_empty and not results[-1].is_empty, "good items next to bad ones must still work"
    return None


def _check_json(rec: Recognizer, samples: Sequence[Any]) -> None:
    for result in rec.analyze(list(samples[:3])):
        text = result.to_json()
        json.dumps(json.loads(text), allow_nan=False)  # strict JSON: no NaN / Infinity
        again = EmotionResult.from_json(text)
        assert again.to_json() == text, "from_json(to_json()) changes the result"
        assert again == EmotionResult.from_json(again.to_json()), "round trip is not stable"
        assert len(again) == len(result) and again.warnings == result.warnings


def _check_deterministic(rec: Recognizer, samples: Sequence[Any]) -> None:
    first = [r.to_json() for r in rec.analyze(list(samples))]
    second = [r.to_json() for r in rec.analyze(list(samples))]
    assert first == second, "the same input twice gives different results"


def _labels_of(label_set: str) -> tuple[str, ...]:
    from affectlens.taxonomy import get_label_set

    return tuple(get_label_set(label_set).labels)


def _text_of(sample: Any) -> str | None:
    if isinstance(sample, str):
        return sample
    if isinstance(sample, TextItem):
        return sample.text
    return None


def _finite(value: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


# ---------------------------------------------------------------------------------------------
# tiny models (same signature as the shipped text model, no torch, no weights to download)
# ---------------------------------------------------------------------------------------------

TINY_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
#: word -> GoEmotions label it is wired to in ``make_tiny_text_onnx``
TINY_WORD_LABELS: Mapping[str, str] = {
    "happy": "joy",
    "glad": "joy",
    "joy": "joy",
    "love": "love",
    "thanks": "gratitude",
    "thank": "gratitude",
    "great": "admiration",
    "amazing": "admiration",
    "funny": "amusement",
    "lol": "amusement",
    "angry": "anger",
    "furious": "anger",
    "annoyed": "annoyance",
    "sad": "sadness",
    "cry": "sadness",
    "sorry": "remorse",
    "afraid": "fear",
    "scared": "fear",
    "nervous": "nervousness",
    "wow": "surprise",
    "surprised": "surprise",
    "disgusting": "disgust",
    "gross": "disgust",
    "proud": "pride",
    "hope": "optimism",
    "confused": "confusion",
    "curious": "curiosity",
    "excited": "excitement",
    "relieved": "relief",
    "disappointed": "disappointment",
    "grief": "grief",
    "embarrassed": "embarrassment",
    "want": "desire",
    "agree": "approval",
    "care": "caring",
    "realize": "realization",
    "wrong": "disapproval",
}
_TINY_FILLERS = (
    "i",
    "am",
    "you",
    "we",
    "it",
    "is",
    "was",
    "so",
    "very",
    "not",
    "the",
    "a",
    "this",
    "that",
    "and",
    "but",
    "to",
    "of",
    "feel",
    "really",
    "today",
    "movie",
    "day",
    "me",
    "my",
    "are",
    "be",
    "what",
    "how",
    "in",
    "at",
)
_TINY_PIECES = ("##s", "##ed", "##ing", "##ly", ".", ",", "!", "?", "'")
TINY_VOCAB: tuple[str, ...] = (*TINY_SPECIAL_TOKENS, *_TINY_FILLERS, *TINY_WORD_LABELS, *_TINY_PIECES)


def make_tiny_tokenizer(path: str | Path) -> Path:
    """Write a BERT-style WordPiece ``tokenizer.json`` (lowercase, ``[CLS] ... [SEP]``) over TINY_VOCAB."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = {token: i for i, token in enumerate(TINY_VOCAB)}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(
        lowercase=True, clean_text=True, handle_chinese_chars=True, strip_accents=None
    )
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))
    return path


def make_tiny_text_onnx(
    path: str | Path,
    *,
    vocab_size: int = len(TINY_VOCAB),
    n_labels: int = 28,
    seed: int = 0,
    label_names: Sequence[str] | None = None,
) -> Path:
    """Write a tiny ONNX model with the shipped text model's signature (built with ``onnx``, no torch).

    Inputs ``input_ids``/``attention_mask`` int64 [batch, seq]; outputs ``logits`` float32
    [batch, n_labels], ``vad`` float32 [batch, 3], ``token_logits`` float32 [batch, seq, n_labels],
    and the conversation model's ``embedding`` [batch, n_labels] and ``hidden_layer3`` [batch, seq, n_labels].
    The graph is embedding lookup -> masked mean -> linear heads.  With the default
    vocabulary (``make_tiny_tokenizer``) and 28 GoEmotions labels, each word of
    ``TINY_WORD_LABELS`` pushes its label up, so "I am so happy" scores ``joy`` highest.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    embedding = (rng.standard_normal((vocab_size, n_labels)) * 0.1).astype(np.float32)
    bias = np.full(n_labels, -1.5, dtype=np.float32)
    names = list(label_names) if label_names is not None else _goemotions_labels(n_labels)
    if names and vocab_size >= len(TINY_VOCAB):
        for token_id, token in enumerate(TINY_VOCAB):
            label = TINY_WORD_LABELS.get(token)
            if label in names:
                embedding[token_id, names.index(label)] += 15.0
        if "neutral" in names:
            bias[names.index("neutral")] = 0.0
    head = np.eye(n_labels, dtype=np.float32)
    vad_head = (rng.standard_normal((n_labels, 3)) * 0.5).astype(np.float32)
    initializers = [
        numpy_helper.from_array(embedding, "word_table"),
        numpy_helper.from_array(head, "head_w"),
        numpy_helper.from_array(bias, "head_b"),
        numpy_helper.from_array(vad_head, "vad_w"),
        numpy_helper.from_array(np.zeros(3, np.float32), "vad_b"),
        numpy_helper.from_array(np.array([1], np.int64), "axis_seq"),
        numpy_helper.from_array(np.array([2], np.int64), "axis_last"),
        numpy_helper.from_array(np.array([1.0], np.float32), "one"),
    ]
    nodes = [
        helper.make_node("Gather", ["word_table", "input_ids"], ["embedded"], axis=0),
        helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
        helper.make_node("Unsqueeze", ["mask", "axis_last"], ["mask3"]),
        helper.make_node("Mul", ["embedded", "mask3"], ["token_logits"]),
        helper.make_node("ReduceSum", ["token_logits", "axis_seq"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask", "axis_seq"], ["count"], keepdims=1),
        helper.make_node("Max", ["count", "one"], ["count_safe"]),
        helper.make_node("Div", ["summed", "count_safe"], ["pooled"]),
        helper.make_node("MatMul", ["pooled", "head_w"], ["logits_raw"]),
        helper.make_node("Add", ["logits_raw", "head_b"], ["logits"]),
        helper.make_node("MatMul", ["pooled", "vad_w"], ["vad_raw"]),
        helper.make_node("Add", ["vad_raw", "vad_b"], ["vad_lin"]),
        helper.make_node("Tanh", ["vad_lin"], ["vad"]),
        # what the conversation model reads (``training/onnx_outputs.py`` names them in the real model)
        helper.make_node("Identity", ["pooled"], ["embedding"]),
        helper.make_node("Identity", ["embedded"], ["hidden_layer3"]),
    ]
    graph = helper.make_graph(
        nodes,
        "affectlens-tiny-text",
        inputs=[
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        outputs=[
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", n_labels]),
            helper.make_tensor_value_info("vad", TensorProto.FLOAT, ["batch", 3]),
            helper.make_tensor_value_info("token_logits", TensorProto.FLOAT, ["batch", "seq", n_labels]),
            helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", n_labels]),
            helper.make_tensor_value_info("hidden_layer3", TensorProto.FLOAT, ["batch", "seq", n_labels]),
        ],
        initializer=initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="affectlens.testing"
    )
    model.ir_version = 8  # readable by every onnxruntime we support
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _goemotions_labels(n_labels: int) -> list[str]:
    if n_labels != 28:
        return []
    from affectlens.bench.datasets import GOEMOTIONS_LABELS

    return list(GOEMOTIONS_LABELS)


def add_tiny_vad_student(folder: str | Path, per_token: Sequence[float] = (0.1, 0.0, 0.0)) -> Path:
    """Give a ``make_tiny_text_model`` folder a VAD student: a graph of its own over the word pieces.

    ``vad_student.onnx`` reads ``input_ids`` and ``attention_mask`` (as a distilled encoder
    does) and returns ``per_token`` times the number of word pieces, so that tests can tell
    its VAD from the main graph's.
    """
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    from affectlens.models import sha256_file

    folder = Path(folder)
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["input_ids"], ["ids"], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["ids", "zero"], ["nothing"]),  # reads the ids, adds 0
            helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
            helper.make_node("Add", ["mask", "nothing"], ["mask_read"]),
            helper.make_node("ReduceSum", ["mask_read", "axis_seq"], ["count"], keepdims=1),
            helper.make_node("MatMul", ["count", "w"], ["vad"]),
        ],
        "affectlens-tiny-vad-student",
        inputs=[helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
                helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        outputs=[helper.make_tensor_value_info("vad", TensorProto.FLOAT, ["batch", 3])],
        initializer=[numpy_helper.from_array(np.asarray([per_token], dtype=np.float32), "w"),
                     numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
                     numpy_helper.from_array(np.array([1], np.int64), "axis_seq")],
    )
    save_tiny_onnx(graph, folder / "vad_student.onnx")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["vad_branch"] = {"file": "vad_student.onnx", "input": "input_ids"}
    config["sha256"]["vad_student.onnx"] = sha256_file(folder / "vad_student.onnx")
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def make_tiny_text_model(folder: str | Path) -> Path:
    """A complete text model folder (tiny ONNX, tokenizer, config with hashes) for ``TextOnnxRecognizer``.

    Identity temperatures and 0.5 thresholds; VAD unscaled.  Tests of anything that loads a
    text model folder (recognizer, batch, service) use this instead of the shipped model.
    """
    from affectlens.models import sha256_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    make_tiny_text_onnx(folder / "model.onnx")
    make_tiny_tokenizer(folder / "tokenizer.json")
    labels = _goemotions_labels(28)
    config = {
        "labels": labels, "label_set": "goemotions", "neutral_label": "neutral",
        "temperatures": [1.0] * len(labels), "thresholds": [0.5] * len(labels),
        "vad": {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "scale_center": 0.0, "scale_half_range": 1.0},
        "sha256": {name: sha256_file(folder / name) for name in ("model.onnx", "tokenizer.json")},
    }
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def add_tiny_vad_branch(folder: str | Path, valence_by_label: dict[str, float],
                        bias: Sequence[float] = (0.0, 0.0, 0.0)) -> Path:
    """Give a ``make_tiny_text_model`` folder a VAD branch (``vad_branch.onnx`` + config entry).

    The branch reads the tiny model's ``hidden_layer3`` [batch, seq, 28] (the word-label
    table), mean-pools it over the mask and maps it linearly to VAD: valence is the sum of
    ``valence_by_label`` over the labels' pooled scores, plus ``bias``.
    """
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    from affectlens.models import sha256_file

    folder = Path(folder)
    labels = _goemotions_labels(28)
    weights = np.zeros((28, 3), dtype=np.float32)
    for label, value in valence_by_label.items():
        weights[labels.index(label), 0] = value
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["mask", "axis_last"], ["mask3"]),
            helper.make_node("Mul", ["hidden_layer3", "mask3"], ["masked"]),
            helper.make_node("ReduceSum", ["masked", "axis_seq"], ["summed"], keepdims=0),
            helper.make_node("ReduceSum", ["mask", "axis_seq"], ["count"], keepdims=1),
            helper.make_node("Div", ["summed", "count"], ["pooled"]),
            helper.make_node("MatMul", ["pooled", "w"], ["raw"]),
            helper.make_node("Add", ["raw", "b"], ["vad"]),
        ],
        "affectlens-tiny-vad-branch",
        inputs=[helper.make_tensor_value_info("hidden_layer3", TensorProto.FLOAT, ["batch", "seq", 28]),
                helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        outputs=[helper.make_tensor_value_info("vad", TensorProto.FLOAT, ["batch", 3])],
        initializer=[numpy_helper.from_array(weights, "w"),
                     numpy_helper.from_array(np.asarray(bias, dtype=np.float32), "b"),
                     numpy_helper.from_array(np.array([1], np.int64), "axis_seq"),
                     numpy_helper.from_array(np.array([2], np.int64), "axis_last")],
    )
    save_tiny_onnx(graph, folder / "vad_branch.onnx")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["vad_branch"] = {"file": "vad_branch.onnx", "input": "hidden_layer3"}
    config["sha256"]["vad_branch.onnx"] = sha256_file(folder / "vad_branch.onnx")
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


# ---------------------------------------------------------------------------------------------
# speech: a tiny model folder and a stand-in VAD (no training, no download)
# ---------------------------------------------------------------------------------------------

RAVDESS_LABELS: tuple[str, ...] = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")


def save_tiny_onnx(graph: Any, path: Path) -> str:
    """Check and write a test graph (opset 13, IR 8: what every onnxruntime here reads); returns its sha256."""
    import hashlib

    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="affectlens.testing")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_tiny_speech_model(folder: str | Path, *, n_mels: int = 64, seed: int = 0) -> Path:
    """Write a model folder with the shipped speech model's layout (``model.onnx`` + ``config.json``).

    The graph is mean over frames -> linear 64 -> 8: input ``logmel`` float32 [batch, 64,
    frames], output ``logits`` float32 [batch, 8].  Energy in the upper mel bands (relative
    to the file's baseline) pushes ``angry`` up and energy in the low bands ``sad``, so
    louder, brighter stretches of a test signal come out angry.
    """

    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    weights = (rng.standard_normal((n_mels, len(RAVDESS_LABELS))) * 0.05).astype(np.float32)
    weights[n_mels // 2 :, RAVDESS_LABELS.index("angry")] += 0.2
    weights[: n_mels // 4, RAVDESS_LABELS.index("sad")] += 0.2
    bias = np.zeros(len(RAVDESS_LABELS), np.float32)
    bias[RAVDESS_LABELS.index("neutral")] = 0.5
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["logmel"], ["pooled"], axes=[2], keepdims=0),
            helper.make_node("MatMul", ["pooled", "w"], ["raw"]),
            helper.make_node("Add", ["raw", "b"], ["logits"]),
        ],
        "affectlens-tiny-speech",
        inputs=[helper.make_tensor_value_info("logmel", TensorProto.FLOAT, ["batch", n_mels, "frames"])],
        outputs=[helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(RAVDESS_LABELS)])],
        initializer=[numpy_helper.from_array(weights, "w"), numpy_helper.from_array(bias, "b")],
    )
    folder = Path(folder)
    digest = save_tiny_onnx(graph, folder / "model.onnx")
    config = {
        "labels": list(RAVDESS_LABELS),
        "label_set": "ravdess",
        "temperature": 1.0,
        "normalisation": {"min_std": 0.5, "min_file_segments": 3, "min_file_speech_s": 5.0},
        "prosody_reference": {
            "median": {"pitch_median_st": 5.0, "loudness_db": -30.0, "speaking_rate": 2.0},
            "spread": {"pitch_median_st": 3.0, "loudness_db": 5.0, "speaking_rate": 1.0},
        },
        "sha256": {"model.onnx": digest},
        "version": "v1",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    return folder


class EnergyVad:
    """A stand-in for Silero VAD in tests: speech probability from 32 ms frame energy.

    Same interface as ``affectlens.audio.vad.SileroVad`` (``load``, ``reset``, ``push``,
    ``flush``): frames with RMS above ``level`` count as speech.  Synthetic tones are not
    speech to Silero, so tests of segmentation and of the recognizer's plumbing use this.
    """

    def __init__(self, level: float = 0.01) -> None:
        self.level = level
        self._pending: Any = None

    def load(self) -> None:
        return None

    def reset(self) -> None:
        self._pending = None

    def push(self, chunk: Any) -> Any:
        import numpy as np

        audio = np.asarray(chunk, np.float32).reshape(-1)
        if self._pending is not None and self._pending.size:
            audio = np.concatenate([self._pending, audio])
        n = audio.size // 512
        self._pending = audio[n * 512 :]
        frames = audio[: n * 512].reshape(n, 512)
        return (np.sqrt((frames**2).mean(axis=1)) > self.level).astype(np.float32)

    def flush(self) -> Any:
        import numpy as np

        if self._pending is None or not self._pending.size:
            return np.zeros(0, np.float32)
        rms = float(np.sqrt((self._pending**2).mean()))
        self._pending = None
        return np.array([1.0 if rms > self.level else 0.0], np.float32)


FERPLUS_LABELS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")


def make_tiny_face_model(folder: str | Path, *, size: int = 48, seed: int = 0) -> Path:
    """Write a face model folder (``model.onnx`` + ``config.json``) with the layout ``face_onnx`` reads.

    The graph is a real (tiny) CNN: conv 3x3 (1 -> 4) -> ReLU -> max-pool 2 -> global average
    -> linear 4 -> 8 over the ``ferplus`` labels; input ``image`` float32 [batch, 1, size, size],
    output ``logits``.  A bright lower half of the crop (where the mouth is) pushes
    ``happiness`` up, so tests can check that occluding the mouth lowers it.
    """

    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    conv = (rng.standard_normal((4, 1, 3, 3)) * 0.3).astype(np.float32)
    conv[0] = 1.0 / 9.0  # channel 0: local brightness
    head = (rng.standard_normal((4, len(FERPLUS_LABELS))) * 0.1).astype(np.float32)
    head[0, FERPLUS_LABELS.index("happiness")] = 10.0
    bias = np.zeros(len(FERPLUS_LABELS), np.float32)
    bias[FERPLUS_LABELS.index("happiness")] = -2.0
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["image", "conv_w"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["c"], ["r"]),
            helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("GlobalAveragePool", ["p"], ["g"]),
            helper.make_node("Flatten", ["g"], ["f"]),
            helper.make_node("Gemm", ["f", "head_w", "head_b"], ["logits"]),
        ],
        "affectlens-tiny-face",
        inputs=[helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, size, size])],
        outputs=[helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(FERPLUS_LABELS)])],
        initializer=[numpy_helper.from_array(conv, "conv_w"), numpy_helper.from_array(head, "head_w"),
                     numpy_helper.from_array(bias, "head_b")],
    )
    folder = Path(folder)
    digest = save_tiny_onnx(graph, folder / "model.onnx")
    config = {
        "labels": list(FERPLUS_LABELS), "label_set": "ferplus", "input_size": [size, size], "channels": 1,
        "input_name": "image", "output_name": "logits", "scale": 1.0 / 255.0, "mean": 0.0, "std": 1.0,
        "temperature": 1.0, "margin": 0.10, "version": "v1", "sha256": {"model.onnx": digest},
    }
    (folder / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    return folder


# ---------------------------------------------------------------------------------------------
# conversations: a tiny context model folder over the tiny text model
# ---------------------------------------------------------------------------------------------



def _tiny_erc_head(path: Path, n_inputs: int, *, context: bool, seed: int) -> None:
    """``turns`` float32 [1, T, n_inputs] -> ``log_probs`` [1, T, 7]; with ``context``, the
    dialogue's mean turn adds to every turn's logits, so a turn reads differently in company."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    weights = (rng.standard_normal((n_inputs, len(MELD_LABELS))) * 0.3).astype(np.float32)
    goemotions = _goemotions_labels(28)
    for source, target in (("joy", "joy"), ("anger", "anger"), ("sadness", "sadness"), ("fear", "fear")):
        for block in range(3):  # embedding, logits / 5, layer 3: each carries the tiny words' labels
            weights[block * 28 + goemotions.index(source), MELD_LABELS.index(target)] += 3.0
    nodes = [helper.make_node("MatMul", ["turns", "w"], ["own"])]
    initializers = [numpy_helper.from_array(weights, "w"),
                    numpy_helper.from_array(np.array([1], np.int64), "axis_turns")]
    if context:
        nodes += [helper.make_node("ReduceMean", ["turns"], ["mean_turn"], axes=[1], keepdims=1),
                  helper.make_node("MatMul", ["mean_turn", "w"], ["shared"]),
                  helper.make_node("Add", ["own", "shared"], ["logits"])]
    else:
        nodes += [helper.make_node("Identity", ["own"], ["logits"])]
    nodes += [helper.make_node("LogSoftmax", ["logits"], ["log_probs"], axis=-1)]
    graph = helper.make_graph(
        nodes, "affectlens-tiny-erc",
        inputs=[helper.make_tensor_value_info("turns", TensorProto.FLOAT, [1, "turns", n_inputs])],
        outputs=[helper.make_tensor_value_info("log_probs", TensorProto.FLOAT, [1, "turns", len(MELD_LABELS)])],
        initializer=initializers)
    save_tiny_onnx(graph, path)


def make_tiny_erc_model(folder: str | Path) -> Path:
    """A conversation model folder (two tiny heads, config with hashes) for ``ContextualErc``.

    Its turn features come from the tiny text model (``make_tiny_text_model``): 3 x 28
    numbers per turn plus the same-speaker flag.
    """
    from affectlens.models import sha256_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    heads = {"context": "head_context.onnx", "utterance": "head_utterance.onnx"}
    for k, (mode, filename) in enumerate(heads.items()):
        _tiny_erc_head(folder / filename, 3 * 28 + 1, context=mode == "context", seed=k)
    config = {"labels": list(MELD_LABELS), "label_set": "meld", "heads": heads,
              "temperatures": {"context": 1.0, "utterance": 1.0},
              "sha256": {name: sha256_file(folder / name) for name in heads.values()}}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder
