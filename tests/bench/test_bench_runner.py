"""Tasks, runner and report on a tiny in-memory task with stub recognizers (no corpus, no model)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from affectlens.bench import tasks as t
from affectlens.bench.datasets import GOEMOTIONS_LABELS
from affectlens.bench.report import report_from_json, report_to_markdown, write_report
from affectlens.bench.runner import BenchReport, run_benchmark
from affectlens.inputs import TextItem, as_text_item
from affectlens.metrics import macro_f1_multilabel
from affectlens.types import VAD, EmotionResult, Modality, Provenance, Segment

EKMAN = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral")
KEYWORDS = {"happy": "joy", "angry": "anger", "sad": "sadness", "wow": "surprise"}
TEXTS = ["so happy today", "I am angry", "sad news", "wow look", "nothing here", "happy and sad"]
GOLD_EKMAN = [["joy"], ["anger"], ["sadness"], ["surprise"], ["neutral"], ["joy", "sadness"]]


class StubRecognizer:
    """Keyword stub over ``label_set`` (ekman or sentiment), enough to drive the harness."""

    modality = Modality.TEXT
    version = "v0"

    def __init__(self, name: str = "stub.keywords.v0", label_set: str = "ekman",
                 vad_dimensions: tuple[str, ...] = ("valence", "arousal", "dominance")) -> None:
        self.name = name
        self.label_set = label_set
        self.vad_dimensions = vad_dimensions
        self.loaded = False

    def load(self) -> None:
        self.loaded = True

    def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
        out = []
        for value in batch:
            item = as_text_item(value)
            if not item.text.strip():
                out.append(EmotionResult((), None, ("empty text",)))
                continue
            hits = [label for word, label in KEYWORDS.items() if word in item.text] or ["neutral"]
            if self.label_set == "sentiment":
                polar = {"joy": "positive", "anger": "negative", "sadness": "negative"}
                hits = [polar.get(hits[0], "neutral")]
            labels = _labels(self.label_set)
            scores = {label: (0.9 if label in hits else 0.05) for label in labels}
            negative = "sad" in item.text or "angry" in item.text
            valence = 0.8 if "happy" in item.text else -0.6 if negative else 0.0
            out.append(EmotionResult((Segment(
                modality=Modality.TEXT, label_set=self.label_set, scores=scores, labels=tuple(hits),
                vad=VAD(valence, 0.3, 0.0), confidence=0.9, provenance=Provenance(self.name, self.version),
                text=item.text),)))
        return out


def _labels(label_set: str) -> tuple[str, ...]:
    return EKMAN if label_set == "ekman" else ("positive", "negative", "neutral")


def _tiny_task() -> t.Task:
    gold = np.array([[1 if label in row else 0 for label in EKMAN] for row in GOLD_EKMAN], dtype=np.int8)

    def read(split: str, root: str | Path | None) -> t.TaskData:
        return t.TaskData([TextItem(x) for x in TEXTS], gold, [str(i) for i in range(len(TEXTS))], "memory")

    return t.Task(
        name="tiny", title="Tiny Ekman task", data="six hand-made sentences", modality=Modality.TEXT,
        read=read,
        views=(
            t.View("ekman", np.asarray, lambda out: t.predicted_multi_hot(out, "ekman")),
            t.View("ekman_probs", np.asarray, lambda out: t.predicted_probabilities(out, "ekman")),
            t.View("sentiment", lambda gold: t.group_multi_hot(gold, "ekman", "sentiment"),
                   lambda out: t.predicted_multi_hot(out, "sentiment")),
        ),
        metrics=(
            t.Metric("macro_f1", "ekman", macro_f1_multilabel, "macro-F1 over Ekman", headline=True),
            t.Metric("ece", "ekman_probs", lambda g, p: float(np.abs(g - p).mean()), "toy calibration"),
            t.Metric("sentiment_macro_f1", "sentiment", macro_f1_multilabel, "macro-F1 over sentiment"),
        ),
    )


def test_runner_scores_every_model_on_the_same_data(tmp_path: Path) -> None:
    task = _tiny_task()
    ours, peer = StubRecognizer(), StubRecognizer("stub.sentiment.v0", "sentiment")
    report = run_benchmark(task, [ours, peer], batch_size=4, bootstrap=50)
    assert ours.loaded and peer.loaded
    assert report.n == len(TEXTS) and report.limit is None
    assert [run.model for run in report.models] == ["stub.keywords.v0", "stub.sentiment.v0"]
    first, second = report.models
    assert first.metrics["macro_f1"] == pytest.approx(5 / 7)  # disgust, fear: never gold nor predicted
    assert "macro_f1" in first.intervals
    assert first.isolation == "in-process" and first.model_rss_mib is None
    assert first.items_per_s is not None and first.items_per_s > 0
    assert first.peak_rss_mib is not None and first.peak_rss_mib > 0
    # the sentiment peer cannot be read as Ekman labels or probabilities: n/a with a reason
    assert second.metrics["macro_f1"] is None and "several ekman labels" in second.notes["macro_f1"]
    assert second.metrics["ece"] is None and "not ekman" in second.notes["ece"]
    # ... but takes part through the exact ekman -> sentiment grouping
    assert second.metrics["sentiment_macro_f1"] is not None
    assert first.metrics["sentiment_macro_f1"] == pytest.approx(1.0)

    json_path, md_path = write_report(report, tmp_path)
    assert json_path.name == "tiny-test.json" and md_path.name == "tiny-test.md"
    again = report_from_json(json_path.read_text(encoding="utf-8"))
    assert isinstance(again, BenchReport)
    assert again.models[1].notes == second.notes
    markdown = md_path.read_text(encoding="utf-8")
    for needle in ("six hand-made sentences", "split `test`", "Machine:", "Date:", "`stub.keywords.v0`",
                   "`stub.sentiment.v0`", "| model | version |", "n/a [1]"):
        assert needle in markdown
    assert json.loads(json_path.read_text(encoding="utf-8"))["machine"]["cores"] >= 1


def test_limit_is_applied_and_reported() -> None:
    report = run_benchmark(_tiny_task(), [StubRecognizer()], limit=3, bootstrap=0)
    assert report.n == 3 and report.limit == 3
    assert "LIMITED to the first 3" in report_to_markdown(report)


def test_a_failing_model_is_reported_not_fatal() -> None:
    class Broken(StubRecognizer):
        def analyze(self, batch: Sequence[Any]) -> list[EmotionResult]:
            raise RuntimeError("boom")

    report = run_benchmark(_tiny_task(), [Broken("stub.broken.v0"), StubRecognizer()], bootstrap=0)
    assert report.models[0].error == "RuntimeError: boom"
    assert report.models[1].metrics["macro_f1"] == pytest.approx(5 / 7)
    assert "failed: RuntimeError: boom" in report_to_markdown(report)


def _vad_output(dimensions: tuple[str, ...], valence: list[float]) -> t.ModelOutput:
    prov = Provenance("x", "v0")
    results = [EmotionResult((Segment(Modality.TEXT, "sentiment", {"neutral": 1.0}, ("neutral",),
                                      VAD(v, 0.0, 0.0), 1.0, prov),)) for v in valence]
    return t.ModelOutput(results, "sentiment", dimensions)


def test_emobank_metrics_say_na_for_dimensions_not_predicted() -> None:
    gold = np.array([[1.0, 3, 3], [3.0, 3, 3], [5.0, 3, 3]])
    data = t.TaskData(["a", "b", "c"], gold, ["1", "2", "3"], "memory")
    evaluation = t.EMOBANK.evaluate(data, _vad_output(("valence",), [-1.0, 0.0, 1.0]))
    assert evaluation.values["pearson_valence"] == pytest.approx(1.0)
    assert evaluation.values["ccc_valence"] == pytest.approx(1.0)  # (x - 3) / 2 maps 1..5 onto -1..1
    assert evaluation.values["pearson_arousal"] is None
    assert evaluation.notes["pearson_arousal"] == "does not predict arousal"
    # a declared but constant dimension is n/a too, never a made-up 0
    evaluation = t.EMOBANK.evaluate(data, _vad_output(("valence", "arousal", "dominance"), [-1.0, 0.0, 1.0]))
    assert evaluation.values["pearson_arousal"] is None
    assert "constant" in evaluation.notes["pearson_arousal"]


def test_label_grouping_uses_only_one_to_one_exact_rows() -> None:
    grouping = t.label_grouping("goemotions", "ekman")
    assert grouping["annoyance"] == "anger" and grouping["neutral"] == "neutral"
    assert t.label_grouping("ekman", "sentiment")["joy"] == "positive"
    with pytest.raises(t.NotApplicable):
        t.label_grouping("sentiment", "goemotions")
    gold = np.zeros((1, 28), dtype=np.int8)
    gold[0, t.GOEMOTIONS_LABELS.index("grief")] = 1
    gold[0, t.GOEMOTIONS_LABELS.index("amusement")] = 1
    grouped = t.group_multi_hot(gold, "goemotions", "ekman")
    assert [EKMAN[j] for j in np.flatnonzero(grouped[0])] == ["joy", "sadness"]


def test_builtin_tasks_are_registered() -> None:
    names = [task.name for task in t.list_tasks()]
    assert {"goemotions", "goemotions-ekman", "emobank"} <= set(names)
    with pytest.raises(KeyError):
        t.get_task("nope")
    with pytest.raises(ValueError, match="splits"):
        t.GOEMOTIONS.load("validation")


def test_calibration_metrics_read_gold_and_probabilities_the_right_way_round() -> None:
    # every text gets 0.9 for the first label and half of them have it: |0.5 - 0.9| = 0.4 on
    # 4 of the 4 x 28 (text, label) pairs, all others exact (swapped arguments gave 0.5 / 28)
    gold = np.zeros((4, len(GOEMOTIONS_LABELS)))
    gold[[0, 2], 0] = 1
    probs = np.zeros_like(gold)
    probs[:, 0] = 0.9
    ece = next(metric for metric in t.GOEMOTIONS.metrics if metric.name == "ece")
    assert ece.compute(gold, probs) == pytest.approx(0.4 / len(GOEMOTIONS_LABELS))


def _face_result(label_set: str, scores: dict[str, float]) -> EmotionResult:
    top = max(scores, key=lambda k: scores[k])
    segment = Segment(modality=Modality.FACE, label_set=label_set, scores=scores, labels=(top,), vad=None,
                      confidence=scores[top], provenance=Provenance("stub.face.v0", "v0"))
    return EmotionResult((segment,), None)


def test_ferplus_compares_a_fer2013_model_through_the_grouping_and_without_contempt() -> None:
    ferplus = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")
    # gold: happiness, anger, contempt, neutral; the 7-class model says happy, angry, disgust, sad
    gold = np.array([ferplus.index(label) for label in ("happiness", "anger", "contempt", "neutral")])
    said = ("happy", "angry", "disgust", "sad")
    fer = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    results = [_face_result("fer2013", {label: 0.9 if label == top else 0.1 / 6 for label in fer}) for top in said]
    data = t.TaskData(list(range(4)), gold, [str(i) for i in range(4)], "memory")
    evaluation = t.FERPLUS.evaluate(data, t.ModelOutput(results, "fer2013"))
    assert evaluation.values["accuracy"] == pytest.approx(2 / 4)  # the contempt face counts as an error
    assert evaluation.values["accuracy_without_contempt"] == pytest.approx(2 / 3)
    assert evaluation.values["macro_f1"] is not None
    with pytest.raises(t.NotApplicable):
        t.accuracy_without_contempt(np.array([7, 7]), np.array([7, 0]))
