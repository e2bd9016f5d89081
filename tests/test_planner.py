"""The one planner: the library and the CLI take the same inputs and give the same results."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import affectlens
from affectlens import cli, output, planner
from affectlens.io import InputNotFound
from affectlens.options import AnalyzeOptions, UnsupportedOption
from affectlens.types import EmotionResult

DUMMY = "dummy.keywords.v1"
SRT = ("1\n00:00:00,500 --> 00:00:02,000\nANNA: I am so happy\n\n"
       "2\n00:00:03,000 --> 00:00:05,000\nBEN: I am angry\n")


def _inputs(tmp_path: Path) -> dict[str, tuple[Any, list[str], dict[str, Any]]]:
    """name -> (input, extra CLI arguments, the same as library keywords)."""
    (tmp_path / "note.txt").write_text("I am so happy today\n")
    (tmp_path / "reviews.csv").write_text("id,body\na1,so angry\na2,so happy\na3,\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "a.txt").write_text("so scared")
    (tmp_path / "folder" / "b.md").write_text("so happy")
    (tmp_path / "talk.srt").write_text(SRT)
    (tmp_path / "turns.csv").write_text("dialogue_id,speaker,text\nd1,A,I am so sad\nd1,B,so happy\nd2,A,angry\n")
    return {
        "text": ("so happy and a bit scared", [], {}),
        "txt": (str(tmp_path / "note.txt"), [], {}),
        "csv": (str(tmp_path / "reviews.csv"), ["--column", "body", "--id", "id"],
                {"column": "body", "id_column": "id"}),
        "folder": (str(tmp_path / "folder"), [], {}),
        "srt": (str(tmp_path / "talk.srt"), [], {}),
        "dialogue_csv": (str(tmp_path / "turns.csv"), ["--dialogue"], {"dialogue": True}),
        "labels": (str(tmp_path / "reviews.csv"), ["--column", "body", "--labels", "sentiment"],
                   {"column": "body", "labels": "sentiment"}),
    }


@pytest.mark.parametrize("kind", ["text", "txt", "csv", "folder", "srt", "dialogue_csv", "labels"])
def test_the_library_gives_what_the_cli_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               kind: str) -> None:
    x, arguments, keywords = _inputs(tmp_path)[kind]
    code = cli.run(["analyze", x, *arguments, "--model", DUMMY, "--out", str(tmp_path / "cli.json")])
    assert code == 0, capsys.readouterr().err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = affectlens.analyze(x, model=DUMMY, **keywords)
    results = [got] if isinstance(got, EmotionResult) else list(got)
    output.write_results(results, "json", tmp_path / "library.json")
    assert (tmp_path / "library.json").read_bytes() == (tmp_path / "cli.json").read_bytes()


def test_a_subtitle_file_is_one_dialogue_and_one_result(tmp_path: Path) -> None:
    (tmp_path / "talk.srt").write_text(SRT)
    result = affectlens.analyze(tmp_path / "talk.srt", model=DUMMY)
    assert isinstance(result, EmotionResult)
    assert [s.speaker for s in result.segments] == ["ANNA", "BEN"]
    with pytest.raises(InputNotFound):
        affectlens.analyze("missing-talk.srt")  # a subtitle name is a path, not a text


def test_routes(tmp_path: Path) -> None:
    (tmp_path / "clip.wav").write_bytes(b"")
    (tmp_path / "other.wav").write_bytes(b"")
    (tmp_path / "clip.srt").write_text(SRT)
    options = AnalyzeOptions(words=False)
    assert planner.route_for("so happy", options)[0] == "items"
    assert planner.route_for(str(tmp_path / "other.wav"), options)[0] == "items"
    assert planner.route_for(str(tmp_path / "clip.srt"), options)[0] == "dialogues"
    route, chosen, notes = planner.route_for(str(tmp_path / "clip.wav"), options)
    assert route == "media" and chosen.transcript == tmp_path / "clip.srt" and "clip.srt" in notes[0]
    assert planner.route_for(str(tmp_path / "clip.wav"), AnalyzeOptions(words=True))[0] == "words"
    assert planner.route_for(str(tmp_path / "clip.srt"), AnalyzeOptions(as_text=True))[0] == "items"
    with pytest.raises(UnsupportedOption, match="--dialogue needs a file"):
        planner.route_for(["a", "b"], AnalyzeOptions(dialogue=True))


@pytest.mark.parametrize("installed", [True, False])
def test_a_lone_recording_gets_words_by_default_where_multilingual_whisper_is_installed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, installed: bool) -> None:
    from affectlens.audio import transcribe

    monkeypatch.setattr(transcribe, "multilingual_words_installed", lambda: installed)
    for name in ("talk.wav", "clip.mp4", "photo.jpg"):
        (tmp_path / name).write_bytes(b"")
    talk, clip = str(tmp_path / "talk.wav"), str(tmp_path / "clip.mp4")
    default = "words" if installed else "items"
    assert planner.route_for(talk, AnalyzeOptions())[0] == default
    assert planner.route_for(talk, AnalyzeOptions(), "speech.ravdess-cnn.v1")[0] == default
    assert planner.route_for(talk, AnalyzeOptions(words=False))[0] == "items"
    assert planner.route_for(talk, AnalyzeOptions(words=True))[0] == "words"  # asked for: whatever is installed
    # a video keeps its faces; an option only the voice timeline honours, a face model or a recognizer
    # object keep the item route
    assert planner.route_for(clip, AnalyzeOptions())[0] == "items"
    assert planner.route_for(talk, AnalyzeOptions(batch_size=8))[0] == "items"
    assert planner.route_for(talk, AnalyzeOptions(), "face.ferplus-cnn.v1")[0] == "items"
    from affectlens.registry import load_recognizer

    assert planner.route_for(talk, AnalyzeOptions(), load_recognizer(DUMMY))[0] == "items"
    assert planner.route_for(tmp_path, AnalyzeOptions())[0] == "items"  # a folder of recordings: one result each


def test_no_words_is_honoured_by_every_route(tmp_path: Path) -> None:
    (tmp_path / "talk.srt").write_text(SRT)
    result = affectlens.analyze(tmp_path / "talk.srt", model=DUMMY, words=False)
    assert isinstance(result, EmotionResult) and len(result.segments) == 2


@pytest.mark.parametrize(("arguments", "refused"), [
    (["--column", "body"], "--column"),
    (["--id", "rid"], "--id"),
    (["--cues", "occlusion"], "--cues"),
    (["--annotate", "faces.png"], "--annotate"),
    (["--tracks", "people.csv"], "--tracks"),
    (["--resume"], "--resume"),
])
def test_the_fused_route_refuses_what_it_cannot_honour(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       arguments: list[str], refused: str) -> None:
    import soundfile as sf

    media = tmp_path / "talk.wav"
    sf.write(media, np.zeros(16_000, np.float32), 16_000)
    (tmp_path / "talk.srt").write_text(SRT)
    code = cli.run(["analyze", str(media), *arguments])
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert code == 2 and last.startswith("error:") and refused in last and "Traceback" not in err


def test_dialogues_refuse_table_and_video_options(tmp_path: Path) -> None:
    (tmp_path / "talk.srt").write_text(SRT)
    for keywords in ({"column": "text"}, {"fps": 2.0}, {"cues": "occlusion"}):
        with pytest.raises(UnsupportedOption, match="not available for dialogues"):
            affectlens.analyze(tmp_path / "talk.srt", model=DUMMY, **keywords)


def test_the_fused_route_honours_a_text_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import soundfile as sf

    media = tmp_path / "talk.wav"
    sf.write(media, np.zeros(16_000 * 6, np.float32), 16_000)
    (tmp_path / "talk.srt").write_text(SRT)
    code = cli.run(["analyze", str(media), "--model", DUMMY, "--batch-size", "2", "-f", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    [result] = json.loads(out)["results"]
    text_parts = [s["extras"]["modalities"]["text"] for s in result["segments"]]
    assert text_parts and all(DUMMY in json.dumps(part) for part in text_parts)


def test_the_fused_route_samples_video_as_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import affectlens.fusion.media as media_module
    from affectlens.vision.io import VideoOptions

    seen: dict[str, Any] = {}

    def fake(media: Path, transcript: Path | None, **keywords: Any) -> EmotionResult:
        seen.update(keywords, transcript=transcript)
        return EmotionResult((), str(media), ())

    monkeypatch.setattr(media_module, "analyze_media_with_transcript", fake)
    (tmp_path / "clip.mp4").write_bytes(b"not decoded by the fake")
    (tmp_path / "clip.vtt").write_text("WEBVTT\n\n00:00.500 --> 00:02.000\n<v ANNA>so happy\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = affectlens.analyze(tmp_path / "clip.mp4", fps=2.0, start=1.0, end=3.0)
    assert isinstance(result, EmotionResult)
    assert seen["video"] == VideoOptions(2.0, 1.0, 3.0) and seen["transcript"] == tmp_path / "clip.vtt"
    assert any("using the transcript beside it: clip.vtt" in str(w.message) for w in caught)
