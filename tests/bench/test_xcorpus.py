"""The cross-corpus (leave-one-corpus-out) benchmark: readers, splits, weights, one tiny full run."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from affectlens.bench.datasets import DatasetMissing, data_root
from affectlens.bench.xcorpus import (
    SYSTEMS,
    corpus_weights,
    restricted_argmax,
    run_xcorpus,
    to_markdown,
    write_report,
)
from affectlens.bench.xcorpus_data import (
    CORPORA,
    EKMAN7,
    LOADERS,
    SPLITS,
    goemotions_ekman_matrix,
    load_corpus,
    load_dailydialog,
    load_isear,
    stable_split,
)
from affectlens.bench.xcorpus_features import FEATURE_DIM, FeatureCache

WORDS = {"anger": "furious", "disgust": "gross", "fear": "scared", "joy": "delighted",
         "sadness": "miserable", "surprise": "astonished", "neutral": "tuesday"}
GOEMOTIONS_IDS = {"anger": 2, "disgust": 11, "fear": 14, "joy": 17, "sadness": 25, "surprise": 26, "neutral": 27}


def _text(emotion: str, i: int) -> str:
    return f"text {i} {WORDS.get(emotion, 'meh')} here"


def _write_corpora(root: Path, n: int = 70) -> None:
    emotions = list(WORDS)
    (root / "goemotions").mkdir(parents=True)
    for split in SPLITS:
        with (root / "goemotions" / f"{split}.tsv").open("w") as handle:
            for i in range(n):
                e = emotions[i % 7]
                handle.write(f"{_text(e, i)}\t{GOEMOTIONS_IDS[e]}\tc{split}{i}\n")
            handle.write(f"two groups\t{GOEMOTIONS_IDS['joy']},{GOEMOTIONS_IDS['anger']}\tcmix{split}\n")
    dd_names = {"anger": "anger", "disgust": "disgust", "fear": "fear", "joy": "happiness", "sadness": "sadness",
                "surprise": "surprise", "neutral": "no emotion"}
    dialogues = []
    for split in ("train", "validation", "test"):
        for d in range(n // 7):
            turns = [{"utterance": _text(e, d * 7 + k) + f" {split}", "utt_idx": k, "emotion": dd_names[e]}
                     for k, e in enumerate(emotions)]
            dialogues.append({"data_split": split, "dialogue_id": f"dailydialog-{split}-{d}", "turns": turns})
    # a test dialogue that duplicates a train one: dropped from test
    dialogues.append({"data_split": "test", "dialogue_id": "dailydialog-test-twin",
                      "turns": [dict(t) for t in dialogues[0]["turns"]]})
    (root / "dailydialog_full").mkdir()
    with zipfile.ZipFile(root / "dailydialog_full" / "data.zip", "w") as archive:
        archive.writestr("data/dialogues.json", json.dumps(dialogues))
    (root / "dailydialog_full" / "reccon_test_overlap.csv").write_text(
        "reccon_id,dd_dialogue_id,dd_split,match,first_utterance\nte_1,dailydialog-train-1,train,id,x\n")
    (root / "isear").mkdir()
    isear_emotions = ["joy", "fear", "anger", "sadness", "disgust", "shame", "guilt"]
    with (root / "isear" / "isear.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "subject_id", "emotion", "text", "non_answer"])
        for subject in range(40):
            for k, e in enumerate(isear_emotions):
                writer.writerow([f"{subject:05d}{k}", str(subject), e, _text(e, subject), "0"])
            writer.writerow([f"{subject:05d}9", str(subject), "joy", "[ No response.]", "1"])
    (root / "emoevent").mkdir()
    for split in SPLITS:
        with (root / "emoevent" / f"{split}.tsv").open("w") as handle:
            handle.write("id\tevent\ttweet\toffensive\temotion\n")
            for i in range(n):
                e = emotions[i % 7]
                handle.write(f"id{i}\tEv\t{_text(e, i)} #x\tNO\t{'others' if e == 'neutral' else e}\n")
    (root / "meld").mkdir()
    for name in SPLITS:
        with (root / "meld" / f"{name}_sent_emo.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Sr No.", "Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID",
                             "Utterance_ID", "Season", "Episode", "StartTime", "EndTime"])
            for i in range(n):
                e = emotions[i % 7]
                writer.writerow([i, _text(e, i), "Ross", e, "neutral", i // 7, i % 7, 1, 1,
                                 "0:00:01,000", "0:00:02,000"])
    (root / "crowdflower_text_emotion").mkdir()
    cf = {"anger": "hate", "fear": "worry", "joy": "fun", "sadness": "empty", "surprise": "surprise",
          "neutral": "neutral", "disgust": "boredom"}
    with (root / "crowdflower_text_emotion" / "text_emotion.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["tweet_id", "sentiment", "author", "content"])
        for i in range(3 * n):
            e = emotions[i % 7]
            writer.writerow([str(i), cf[e], f"user{i // 2}", _text(e, i) + " &amp; more"])


    ed = {"anger": "furious", "fear": "anxious", "joy": "proud", "sadness": "devastated", "surprise": "surprised",
          "neutral": "nostalgic", "disgust": "disgusted"}
    (root / "empatheticdialogues").mkdir()
    for split, name in (("train", "train"), ("dev", "valid"), ("test", "test")):
        with (root / "empatheticdialogues" / f"{name}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["conv_id", "utterance_idx", "speaker_role", "emotion", "situation", "utterance"])
            for i in range(n):
                e = emotions[i % 7]
                conv = f"hit:{i}_conv:{split}{i}"
                writer.writerow([conv, "1", "speaker", ed[e], "a situation", _text(e, i)])
                writer.writerow([conv, "2", "listener", ed[e], "", "oh no, tuesday again"])


class KeywordFeatures(FeatureCache):
    """Features that say which emotion word a text holds (and noise): no encoder needed."""

    def encode(self, texts: list[str]) -> np.ndarray:
        rng = np.random.default_rng(len(texts))
        out = rng.normal(0, 0.1, (len(texts), FEATURE_DIM)).astype(np.float32)
        for i, text in enumerate(texts):
            for j, word in enumerate(WORDS.values()):
                if word in text:
                    out[i, 500 + j] += 3.0
        return out


@pytest.fixture()
def corpora(tmp_path: Path) -> Path:
    _write_corpora(tmp_path / "data")
    return tmp_path / "data"


def test_readers_map_every_corpus_onto_ekman(corpora: Path) -> None:
    for name in LOADERS:
        for split in SPLITS:
            data = load_corpus(name, split, corpora)
            assert len(data) == len(data.labels) == len(data.ekman) == len(data.ids)
            kept = data.ekman[data.ekman >= 0]
            assert {EKMAN7[i] for i in kept} <= set(CORPORA[name].classes)
    isear = load_isear("train", corpora)
    assert "[ No response.]" not in isear.texts
    assert set(np.asarray(isear.labels)[isear.ekman < 0]) == {"shame", "guilt"}
    empathetic = load_corpus("empatheticdialogues", "train", corpora)
    assert "oh no, tuesday again" not in empathetic.texts  # the speaker's opening turn only
    assert set(np.asarray(empathetic.labels)[empathetic.ekman < 0]) == {"nostalgic"}
    goemotions = load_corpus("goemotions", "test", corpora)
    assert "two groups" not in goemotions.texts  # two Ekman groups: not single-label
    crowdflower = load_corpus("crowdflower", "train", corpora)
    assert all("&amp;" not in t for t in crowdflower.texts)
    assert all("user" not in t for t in crowdflower.texts)  # the handle is never kept


def test_splits_group_people_and_keep_reccon_test_out(corpora: Path) -> None:
    subjects = {split: {i[:5] for i in load_isear(split, corpora).ids} for split in SPLITS}
    assert not subjects["train"] & subjects["test"] and not subjects["dev"] & subjects["test"]
    assert all(subjects.values())
    assert stable_split("isear:7") == stable_split("isear:7")
    train_ids = load_dailydialog("train", corpora, thin_neutral=1.0).ids
    assert not any(i.startswith("dailydialog-train-1-") for i in train_ids)  # RECCON test dialogue
    test_ids = load_dailydialog("test", corpora).ids
    assert not any("twin" in i for i in test_ids)  # its text occurs in train
    thinned = load_dailydialog("train", corpora, thin_neutral=0.0)
    assert "no emotion" not in thinned.labels


def test_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetMissing):
        load_corpus("emoevent", "test", tmp_path)
    with pytest.raises(ValueError, match="split"):
        load_corpus("emoevent", "validation", tmp_path)
    with pytest.raises(KeyError):
        load_corpus("nope", "test", tmp_path)


def test_corpus_weights_give_each_corpus_and_class_the_same_share() -> None:
    corpora = ["a"] * 90 + ["b"] * 10
    labels = np.array([0] * 80 + [3] * 10 + [0] * 5 + [6] * 5)
    w = corpus_weights(corpora, labels)
    assert w[:90].sum() == pytest.approx(w[90:].sum())
    assert w[:80].sum() == pytest.approx(w[80:90].sum())
    assert w.sum() == pytest.approx(len(labels))


def test_restricted_argmax_only_picks_the_corpus_classes() -> None:
    scores = np.zeros((2, 7))
    scores[0, EKMAN7.index("disgust")] = 0.9
    scores[0, EKMAN7.index("anger")] = 0.5
    scores[1, EKMAN7.index("neutral")] = 0.9
    scores[1, EKMAN7.index("joy")] = 0.2
    predicted = restricted_argmax(scores, ("anger", "fear", "joy", "sadness", "surprise"))
    assert [EKMAN7[i] for i in predicted] == ["anger", "joy"]


def test_goemotions_grouping_is_one_hot() -> None:
    matrix = goemotions_ekman_matrix()
    assert (matrix.sum(axis=1) == 1).all()


def test_leave_one_corpus_out_run_scores_every_corpus(corpora: Path, tmp_path: Path) -> None:
    cache = KeywordFeatures(tmp_path / "cache", corpora)
    systems = ("xcorpus head", "tfidf+lr", "in-domain")
    report = run_xcorpus(cache, bootstrap=20, systems=systems, command="affectlens bench xcorpus")
    assert list(report.scores) == list(CORPORA)
    for name, row in report.scores.items():
        assert set(row) == (set(systems) - {"in-domain"} if name == "meld" else set(systems))
        head = row["xcorpus head"]
        assert head.interval is not None and head.interval[0] <= head.macro_f1 + 1e-9
    # keyword features separate the classes: a head trained on other corpora transfers
    assert report.scores["emoevent"]["xcorpus head"].macro_f1 > 0.9
    assert list((tmp_path / "cache").glob("*.npy"))  # cached: a second run reads, not encodes
    cache.encode = None  # type: ignore[method-assign]
    again = run_xcorpus(cache, corpora=["isear"], bootstrap=0, systems=("xcorpus head",))
    assert again.scores["isear"]["xcorpus head"].interval is None
    table = to_markdown(report)
    assert "ISEAR" in table and "xcorpus head" in table and "weighted" in table
    assert report.scores["meld"]["xcorpus head"].weighted_f1 > 0.9  # the probe: trained on all six
    json_path, md_path = write_report(report, tmp_path / "out")
    assert json.loads(json_path.read_text())["corpora"] == list(CORPORA) and md_path.exists()
    assert set(SYSTEMS) >= set(systems)


@pytest.mark.slow
@pytest.mark.data
def test_real_corpora_splits() -> None:
    try:
        sizes = {name: len(load_corpus(name, "test")) for name in LOADERS}
    except DatasetMissing:
        pytest.skip(f"corpora not found under {data_root()}")
    assert sizes["emoevent"] == 1447
    assert 1400 < sizes["isear"] < 1700
    assert sizes["dailydialog"] < 7740  # test dialogues with a train twin are out


def test_cli_lists_xcorpus_and_refuses_bad_input(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from affectlens.cli.bench import app

    runner = CliRunner()
    assert "xcorpus" in runner.invoke(app, ["list"]).output
    unknown = runner.invoke(app, ["xcorpus", "--corpus", "nope"])
    assert unknown.exit_code == 2 and "unknown corpus 'nope'" in unknown.output
    missing = runner.invoke(app, ["xcorpus", "--data-root", str(tmp_path), "--cache", str(tmp_path / "c")])
    assert missing.exit_code == 2 and "AFFECTLENS_DATA" in missing.output
    no_model = runner.invoke(app, ["xcorpus", "--model", "text.nope.v1"])
    assert no_model.exit_code == 2 and "text.nope.v1" in no_model.output
    not_text = runner.invoke(app, ["xcorpus", "--model", "dummy.keywords.v1"])
    assert not_text.exit_code == 2 and "only GoEmotions text models" in not_text.output


def test_a_registered_model_is_scored_beside_the_systems(corpora: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from affectlens.recognizers import text_onnx
    from affectlens.registry import RecognizerSpec, register, unregister
    from affectlens.testing import make_tiny_text_model
    from affectlens.types import Modality

    monkeypatch.setattr(text_onnx, "DEFAULT_MODEL_DIR", make_tiny_text_model(tmp_path / "tiny"))
    register(RecognizerSpec(name="text.tiny-xcorpus.v1", modality=Modality.TEXT, label_set="goemotions",
                            factory="affectlens.recognizers.text_onnx:create", description="tiny"), replace=True)
    try:
        report = run_xcorpus(KeywordFeatures(tmp_path / "cache", corpora), corpora=["emoevent", "meld"],
                             bootstrap=0, systems=("nrc lexicon",), models=["text.tiny-xcorpus.v1"])
    finally:
        unregister("text.tiny-xcorpus.v1")
    assert report.models == ["text.tiny-xcorpus.v1"]
    for row in report.scores.values():
        assert set(row) == {"nrc lexicon", "text.tiny-xcorpus.v1"}
        assert 0.0 <= row["text.tiny-xcorpus.v1"].macro_f1 <= 1.0
    table = to_markdown(report)
    assert "text.tiny-xcorpus.v1" in table.splitlines()[4]  # a column of the table
    assert "its model card says which corpora it was trained on" in table
