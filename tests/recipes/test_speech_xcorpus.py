"""Cross-corpus heads: weights, standardisers, scoring over shared classes, ONNX export equal to numpy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from affectlens_recipes.speech_corpora import CLASSES
from affectlens_recipes.speech_xcorpus import (
    Dataset,
    fit_heads,
    head_inputs,
    leave_one_corpus_out,
    pooled_stats,
    sample_weights,
    score,
    score_conditions,
    zscore_groups,
)


def synthetic(seed: int = 0) -> Dataset:
    """Three corpora with their own offsets; the label moves 2 of 6 dims; corpus c lacks 'sad'."""
    rng = np.random.default_rng(seed)
    rows, labels, corpora, speakers = [], [], [], []
    centres = {k: rng.normal(0, 3, 6) * (np.arange(6) < 2) for k in ("angry", "sad", "happy")}
    for corpus, offset in (("a", 0.0), ("b", 5.0), ("c", -4.0)):
        for i in range(60):
            label = ("angry", "sad", "happy")[i % 3]
            if corpus == "c" and label == "sad":
                continue
            rows.append(centres[label] + offset + rng.normal(0, 0.7, 6))
            labels.append(CLASSES.index(label))
            corpora.append(corpus)
            speakers.append(f"{corpus}:{i % 4}")
    n = len(rows)
    return Dataset(np.array(rows), np.array(corpora), np.array(speakers), np.array(labels), np.zeros(n, int),
                   np.ones(n))


def test_sample_weights_balance_classes_and_corpora_within_a_class() -> None:
    label = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    corpus = np.array(["a", "a", "b", "a", "a", "a", "a", "b"])
    w = sample_weights(label, corpus)
    assert w[label == 0].sum() == pytest.approx(w[label == 1].sum())
    assert w[(label == 1) & (corpus == "a")].sum() == pytest.approx(w[(label == 1) & (corpus == "b")].sum())
    assert w.sum() == pytest.approx(len(label))


def test_standardisers() -> None:
    data = synthetic()
    z = zscore_groups(data.x, data.corpus)
    for corpus in ("a", "b", "c"):
        np.testing.assert_allclose(z[data.corpus == corpus].mean(0), 0, atol=1e-9)
    mean, std = pooled_stats(data.x, data.corpus)
    expected = np.mean([data.x[data.corpus == c].mean(0) for c in ("a", "b", "c")], axis=0)
    np.testing.assert_allclose(mean, expected)
    assert std.shape == (6,) and np.all(std > 0)


def test_heads_learn_and_loco_scores_only_shared_classes() -> None:
    data = synthetic()
    for mode in ("speaker", "corpus"):
        assert score(fit_heads(data, mode, c=1.0), data)["uar"] > 0.9
    # one clip cannot be corpus-normalised: the pooled standardiser leaves each corpus's offset in place
    assert 0.5 < score(fit_heads(data, "utterance", c=1.0), data)["uar"] < 0.9
    results = leave_one_corpus_out(data, "corpus", lambda d, m: fit_heads(d, m, c=1.0))
    assert results["c"]["classes"] == ["happy", "angry"]
    assert set(results["a"]["classes"]) == {"happy", "sad", "angry"}
    assert all(r["uar"] > 0.8 for r in results.values())


def test_score_conditions_scores_each_conditions_rows_of_the_same_clips() -> None:
    data = synthetic()
    heads = fit_heads(data, "speaker", c=1.0)
    noise = np.random.default_rng(1).normal(0, 30, data.x.shape)
    got = score_conditions(heads, data, {"clean": data.x, "drowned": data.x + noise})
    assert got["clean"] == score(heads, data)["uar"] > 0.9
    assert got["drowned"] < got["clean"]


@pytest.mark.parametrize("axes", ["heads", "emotion"])
def test_exported_graph_equals_the_numpy_heads(tmp_path: Path, axes: str) -> None:
    pytest.importorskip("onnx")
    import onnxruntime as ort

    from affectlens_recipes.speech_xcorpus_export import heads_to_onnx

    data = synthetic()
    heads = fit_heads(data, "utterance", c=1.0, axes=axes)
    heads_to_onnx(heads, tmp_path / "h.onnx")
    session = ort.InferenceSession(str(tmp_path / "h.onnx"), providers=["CPUExecutionProvider"])
    emotion, arousal, valence = session.run(None, {"features": data.x.astype(np.float32)})
    z = head_inputs(data, heads)
    np.testing.assert_allclose(emotion, heads.emotion(z)[:, list(heads.classes)], atol=1e-4)
    np.testing.assert_allclose(arousal, heads.arousal(z), atol=1e-4)
    np.testing.assert_allclose(valence, heads.valence(z), atol=1e-4)


def test_model_config_names_the_encoder_its_heads_were_trained_on() -> None:
    from affectlens.audio import whisper_base
    from affectlens_recipes.speech_xcorpus_export import encoder_entry

    assert encoder_entry("clip")["model"] == "tiny.en"
    base = encoder_entry("base-clip")
    assert base["model"] == "base" and base["sha256"] == whisper_base.PINNED_SHA256
    mid = encoder_entry("base@3+4")
    assert mid["model"] == "base" and mid["layers"] == [3, 4] and mid["sha256"] == whisper_base.PINNED_SHA256
    assert "layers" not in encoder_entry("clip") and encoder_entry("tiny.en@2-noisy")["layers"] == [2]


def test_layer_windows_are_parsed_and_unknown_windows_refused() -> None:
    from affectlens_recipes.speech_whisper_cache import featuriser, layer_window

    assert layer_window("base@3+4") == ("base", (3, 4), "")
    assert layer_window("tiny.en@2-noisy") == ("tiny.en", (2,), "noisy")
    assert layer_window("base@3+4-speed110") == ("base", (3, 4), "speed110")
    assert layer_window("clip") is None and layer_window("base@") is None and layer_window("small@2") is None
    with pytest.raises(ValueError, match="unknown feature window"):
        featuriser("nope", 1)


def test_augmented_copies_join_the_training_rows_with_their_clip_labels(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from affectlens_recipes import speech_xcorpus as sx
    from affectlens_recipes.speech_corpora import Clip
    from affectlens_recipes.speech_whisper_cache import save_cache

    # corpus "z" before "a" (as RAVDESS before ASED): the copies must be matched in the data's order, not sorted
    clips = [Clip("za"[i // 2], Path(f"{i}.wav"), f"{'za'[i // 2]}:{i}", f"s{i % 2}", ("angry", "sad")[i % 2], i % 2)
             for i in range(4)]
    monkeypatch.setattr(sx, "load_all", lambda corpora=(): [c for k in corpora for c in clips if c.corpus == k])
    data = Dataset(np.zeros((4, 3)), np.array([c.corpus for c in clips]),
                   np.array([f"{c.corpus}:{c.speaker}" for c in clips]),
                   np.array([CLASSES.index(c.label) for c in clips]), np.array([0, 1, 0, 1]), np.ones(4))
    (tmp_path / "noisy").mkdir()
    save_cache(tmp_path / "noisy" / "z.npz", {"z:1": (np.full(3, 7.0, np.float32), 1.0)})
    grown = sx.with_augmented(data, tmp_path, "noisy")
    assert len(grown.label) == 5
    assert grown.x[4].tolist() == [7.0, 7.0, 7.0]
    assert grown.label[4] == CLASSES.index("sad") and grown.speaker[4] == "z:s1:noisy" and grown.fold[4] == 1
    assert sx.with_augmented(data, tmp_path, "absent") is data
    (tmp_path / "faster").mkdir()
    save_cache(tmp_path / "faster" / "a.npz", {"a:2": (np.full(3, 9.0, np.float32), 1.0)})
    both = sx.with_augmented(data, tmp_path, "noisy,faster")  # several windows: each window's copies, in order
    assert len(both.label) == 6 and both.x[4, 0] == 7.0 and both.x[5, 0] == 9.0
    assert both.speaker[5] == "a:s0:faster" and both.label[5] == CLASSES.index("angry")


def test_augmenting_fitter_never_trains_on_copies_of_test_clips() -> None:
    from affectlens_recipes.speech_xcorpus import augmenting_fitter, in_corpus_folds

    data = synthetic()
    data.fold = np.arange(len(data.label)) % 2
    copies = data.rows(data.corpus == "a")
    copies.x = copies.x + 100.0  # recognisable
    seen: list[tuple[int, int]] = []

    def spy(train: Dataset, mode: str) -> object:
        seen.append((int((train.x[:, 0] > 50).sum()), int(((train.corpus == "a") & (train.fold == 0)).sum())))
        return fit_heads(train, mode, c=1.0)

    in_corpus_folds(data, "a", "global", fitter=augmenting_fitter(spy, copies))  # type: ignore[arg-type]
    # fold 0 of corpus a held out: only fold-1 copies join (30 of 60); then fold 1 held out: fold-0 copies
    assert [copies_used for copies_used, _ in seen] == [30, 30]
    assert seen[0][1] == 0


def test_arousal_and_valence_from_the_emotion_head_are_its_mass_on_their_classes() -> None:
    from affectlens_recipes.speech_corpora import HIGH_AROUSAL, POSITIVE

    data = synthetic()
    heads = fit_heads(data, "utterance", c=1.0, axes="emotion")
    z = head_inputs(data, heads)
    p = heads.emotion(z)
    high = [CLASSES.index(k) for k in HIGH_AROUSAL]
    positive = [CLASSES.index(k) for k in POSITIVE]
    np.testing.assert_allclose(heads.arousal(z), p[:, high].sum(axis=1))
    np.testing.assert_allclose(heads.valence(z), p[:, positive].sum(axis=1))
    assert not heads.arousal_w.any()  # no binary head was fitted
    with pytest.raises(ValueError, match="axes"):
        fit_heads(data, "utterance", axes="nope")
