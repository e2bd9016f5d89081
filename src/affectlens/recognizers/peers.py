"""Peer recognizers: well-known baselines that run through the same contract as our models.

They exist so that every benchmark table shows, in the same run on the same data, what a
simple, established method gets.  All are plain recognizers (``load`` / ``analyze``),
registered by ``register_peers()`` and each in its own module (``peer_vader``, ``peer_tfidf``,
``peer_frozen``, ``peer_nrc``, ``peer_fer``: the ``fer`` package's facial expression
model, for ``affectlens bench ferplus``):

- ``peer.vader.v1``: VADER (Hutto & Gilbert 2014, MIT), a sentiment lexicon with rules.
  Label set ``sentiment`` (positive / negative / neutral, the usual +-0.05 compound
  cut-offs).  Its scores are VADER's own pos/neg/neu *proportions of lexical intensity*,
  not calibrated probabilities.  VAD: valence = the compound score; VADER has no notion
  of arousal or dominance, so both are 0 and the recognizer declares
  ``vad_dimensions = ("valence",)`` (benchmarks report them as n/a, never as 0).
  Cues: the lexicon words that carried sentiment, with their character spans.
- ``peer.tfidf-logreg.v1``: TF-IDF word 1-2-grams + character 2-5-grams, one-vs-rest
  logistic regression per GoEmotions label, per-label thresholds tuned on dev.  No
  dataset-derived weights ship with affectlens: when asked to (``train_if_missing=True`` or
  ``AFFECTLENS_PEER_TRAIN=1``; off by default, never in the service, see ``affectlens.readiness``)
  it trains from GoEmotions train/dev (``AFFECTLENS_DATA`` or ``data_root=``; about 2-3 minutes
  on 2 cores) and caches plain arrays (``.npz``, no pickle) under ``~/.cache/affectlens/peers/``
  (``AFFECTLENS_CACHE`` overrides the folder); without a cached model and without that opt-in
  ``load`` raises ``PeerModelMissing`` naming how to prepare it.  Needs
  scikit-learn (the ``bench`` extra).
  VAD: the score-weighted mean of the GoEmotions labels' VAD anchors (taxonomy).
  Cues: the n-grams present in the text with the largest positive contribution
  (tf-idf value x coefficient) to each predicted label.
"""

from __future__ import annotations

from affectlens.recognizer_spec import RecognizerSpec

# the helpers every text peer shares, importable from here as before
from affectlens.recognizers.peer_common import PeerModelMissing as PeerModelMissing
from affectlens.recognizers.peer_common import _anchor_vad as _anchor_vad
from affectlens.recognizers.peer_common import _cores as _cores
from affectlens.recognizers.peer_common import _empty as _empty
from affectlens.recognizers.peer_common import _find_spans as _find_spans
from affectlens.recognizers.peer_common import _segment as _segment
from affectlens.recognizers.peer_common import _text_or_warning as _text_or_warning
from affectlens.recognizers.peer_common import cache_dir as cache_dir
from affectlens.recognizers.peer_specs import PEER_SPECS as PEER_SPECS
from affectlens.recognizers.peer_tfidf import TFIDF_NAME, TFIDF_RECIPE, TfidfLogRegRecognizer
from affectlens.recognizers.peer_vader import SENTIMENT_LABELS, VADER_NAME, VaderRecognizer


def register_peers() -> list[RecognizerSpec]:
    """Register the peer recognizers (idempotent: names already registered are left alone).

    The registry lists them anyway (``builtin_models``); this puts back any that were unregistered.
    """
    from affectlens.registry import register  # here, not above: the registry never imports this façade

    for spec in PEER_SPECS:
        try:
            register(spec)
        except ValueError:  # already registered (by builtin_models or an earlier call)
            continue
    return list(PEER_SPECS)


__all__ = [
    "PEER_SPECS",
    "SENTIMENT_LABELS",
    "TFIDF_NAME",
    "TFIDF_RECIPE",
    "VADER_NAME",
    "PeerModelMissing",
    "TfidfLogRegRecognizer",
    "VaderRecognizer",
    "cache_dir",
    "register_peers",
]
