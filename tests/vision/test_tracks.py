from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from affectlens.types import VAD, EmotionResult, Modality, Provenance, Segment
from affectlens.vision.tracks import TrackCollector, track_summaries, write_track_summaries


def _face(track: int | None, t: float, happy: float, source: str = "clip.mp4") -> Segment:
    scores = {"neutral": 1.0 - happy, "happiness": happy}
    return Segment(Modality.FACE, "ferplus", scores, (max(scores, key=lambda k: scores[k]),),
                   VAD(happy - 0.5, 0.2, 0.0), max(scores.values()), Provenance("face.test", "v1"),
                   source=source, start=t, end=t + 0.2, track_id=track)


def test_one_row_per_track_with_when_how_often_and_what() -> None:
    segments = [_face(1, 0.0, 0.9), _face(2, 0.0, 0.1), _face(1, 0.2, 0.7), _face(2, 0.2, 0.3),
                _face(1, 0.4, 0.2), _face(None, 0.4, 0.9), _face(1, 0.0, 0.9, source="other.mp4")]
    rows = track_summaries(segments)
    assert [(r["source"], r["track_id"], r["faces"]) for r in rows] == [
        ("clip.mp4", 1, 3), ("clip.mp4", 2, 2), ("other.mp4", 1, 1)]
    first = rows[0]
    assert first["first_seen"] == 0.0 and first["last_seen"] == pytest.approx(0.6)
    assert first["top_label"] == "happiness" and first["mean_scores"]["happiness"] == pytest.approx(0.6)
    assert first["top_label_share"] == pytest.approx(2 / 3, abs=1e-4)  # one of its three frames read neutral
    assert first["valence"] == pytest.approx(0.1)
    assert rows[1]["top_label"] == "neutral"


def test_csv_and_json_files(tmp_path: Path) -> None:
    rows = track_summaries([_face(1, 0.0, 0.9), _face(3, 0.0, 0.2)])
    with write_track_summaries(rows, tmp_path / "t.csv").open(newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [r["track_id"] for r in table] == ["1", "3"] and float(table[0]["score_happiness"]) == 0.9
    assert json.loads(write_track_summaries(rows, tmp_path / "t.json").read_text())[1]["top_label"] == "neutral"
    empty = write_track_summaries([], tmp_path / "none.csv").read_text()
    assert empty.splitlines()[0].startswith("source,track_id")


def test_collector_passes_results_through() -> None:
    results = [EmotionResult((_face(1, 0.0, 0.9), _face(None, 0.0, 0.5)), "clip.mp4")]
    collector = TrackCollector()
    assert list(collector.watch(results)) == results
    assert len(collector.segments) == 1


def test_timeline_plot_draws_one_line_per_track(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.axes

    from affectlens.timeline import plot_timeline

    labels: list[str] = []
    original = matplotlib.axes.Axes.plot

    def spy(self: matplotlib.axes.Axes, *args: object, **kwargs: object) -> object:
        if "label" in kwargs:
            labels.append(str(kwargs["label"]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "plot", spy)
    path = plot_timeline([_face(1, 0.0, 0.9), _face(2, 0.0, 0.1), _face(1, 0.2, 0.7)], tmp_path / "t.png")
    assert path.stat().st_size > 0
    assert labels == ["valence (track 1)", "arousal (track 1)", "valence (track 2)", "arousal (track 2)"]


def test_timeline_plot_gives_each_track_its_own_emotion_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.axes

    from affectlens.timeline import plot_timeline

    ticks: list[list[str]] = []
    original = matplotlib.axes.Axes.set_yticks

    def spy(self: matplotlib.axes.Axes, positions: object, labels: object = None, **kwargs: object) -> object:
        if labels is not None:
            ticks.append(list(labels))  # type: ignore[call-overload]
        return original(self, positions, labels, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(matplotlib.axes.Axes, "set_yticks", spy)
    plot_timeline([_face(1, 0.0, 0.9), _face(2, 0.0, 0.1), _face(1, 0.2, 0.7)], tmp_path / "t.png")
    assert len(ticks) == 1 and len(ticks[0]) >= 2
    assert all(t.startswith(("track 1: ", "track 2: ")) for t in ticks[0])
    assert {t.split(":")[0] for t in ticks[0]} == {"track 1", "track 2"}


def test_timeline_table_shows_the_track_of_each_face() -> None:
    from rich.console import Console

    from affectlens.timeline import render_timeline

    console = Console(width=120, record=True)
    render_timeline(EmotionResult((_face(1, 0.0, 0.9), _face(2, 0.0, 0.1)), "clip.mp4"), console)
    text = console.export_text()
    assert "track" in text and "#1" in text and "#2" in text
