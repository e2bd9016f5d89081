from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("soundfile")
import soundfile as sf

from affectlens.dialogue.context_model import ContextualErc
from affectlens.fusion.media import analyze_media_with_transcript
from affectlens.recognizers.speech_onnx import SpeechOnnxRecognizer
from affectlens.recognizers.text_onnx import TextOnnxRecognizer
from affectlens.testing import EnergyVad, make_tiny_erc_model, make_tiny_speech_model, make_tiny_text_model

RATE = 16_000


def _voice(f0: float, seconds: float, amp: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amp * sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 8))).astype(np.float32)


SRT = """1
00:00:00,500 --> 00:00:02,000
ANNA: I am so happy

2
00:00:03,000 --> 00:00:05,000
BEN: I am angry
"""


@pytest.fixture
def recognizers(tmp_path: Path) -> dict[str, object]:
    text = TextOnnxRecognizer(make_tiny_text_model(tmp_path / "text"))
    return {"text": ContextualErc(make_tiny_erc_model(tmp_path / "erc"), text_model=text, cause_model=None),
            "speech": SpeechOnnxRecognizer(model_dir=make_tiny_speech_model(tmp_path / "speech"), vad=EnergyVad())}


def _media(tmp_path: Path, seconds_after: float = 0.5) -> Path:
    audio = np.concatenate([np.zeros(RATE // 2, np.float32), _voice(120, 1.5, 0.2), np.zeros(RATE, np.float32),
                            _voice(250, 2.0, 0.5), np.zeros(int(seconds_after * RATE), np.float32)])
    path = tmp_path / "talk.wav"
    sf.write(path, audio, RATE)
    return path


def test_each_turn_fuses_its_text_with_the_voice_under_it(tmp_path: Path, recognizers: dict[str, object]) -> None:
    (tmp_path / "talk.srt").write_text(SRT)
    result = analyze_media_with_transcript(_media(tmp_path), tmp_path / "talk.srt", face=False, **recognizers)
    assert [(s.start, s.end) for s in result.segments] == [(0.5, 2.0), (3.0, 5.0)]
    for seg in result.segments:
        assert set(seg.extras["modalities"]) == {"text", "speech"}
        assert 0.0 <= seg.extras["disagreement"] <= 1.0
        assert "words:" in seg.extras["rationale"] and "voice:" in seg.extras["rationale"]
        assert seg.source.endswith("talk.wav")
    assert result.warnings == ()


def test_a_transcript_longer_than_the_media_is_reported(tmp_path: Path, recognizers: dict[str, object]) -> None:
    (tmp_path / "talk.srt").write_text(SRT + "\n3\n00:01:00,000 --> 00:01:02,000\nANNA: I am so happy\n")
    result = analyze_media_with_transcript(_media(tmp_path), tmp_path / "talk.srt", face=False, **recognizers)
    assert len(result.segments) == 3  # the turn past the end keeps its text result
    assert any("the transcript runs to 62.0 s but the media lasts" in w for w in result.warnings)
    assert set(result.segments[2].extras["modalities"]) == {"text"}


def test_a_failing_modality_is_reported_and_left_out(tmp_path: Path, recognizers: dict[str, object]) -> None:
    class Broken:
        name = "speech.broken.v1"

        def load(self) -> None:
            raise RuntimeError("weights unreadable")

    (tmp_path / "talk.srt").write_text(SRT)
    result = analyze_media_with_transcript(_media(tmp_path), tmp_path / "talk.srt", text=recognizers["text"],
                                           speech=Broken(), face=False)
    assert len(result.segments) == 2
    assert any("speech: RuntimeError: weights unreadable" in w for w in result.warnings)


def test_cli_transcript_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from affectlens import cli

    media = _media(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    for transcript, message in ((tmp_path / "none.srt", "transcript not found"),
                                (tmp_path / "notes.txt", "must be an .srt or .vtt file")):
        code = cli.run(["analyze", str(media), "--transcript", str(transcript)])
        err = capsys.readouterr().err
        assert code != 0 and message in err and "Traceback" not in err


class _FakeWhisper:
    """Stands in for faster_whisper.WhisperModel: two timed segments and an empty one."""

    def transcribe(self, samples: np.ndarray, **_: object) -> tuple[list[object], object]:
        from types import SimpleNamespace as S

        assert samples.dtype == np.float32 and samples.ndim == 1
        return ([S(start=0.5, end=2.0, text=" I am so happy"), S(start=2.2, end=2.4, text="  "),
                 S(start=3.0, end=5.0, text="I am angry")], S(language="en"))


def test_without_a_transcript_a_local_asr_model_gives_the_turns(tmp_path: Path,
                                                                 recognizers: dict[str, object]) -> None:
    result = analyze_media_with_transcript(_media(tmp_path), asr=_FakeWhisper(), face=False, **recognizers)
    assert [(s.start, s.end) for s in result.segments] == [(0.5, 2.0), (3.0, 5.0)]
    assert any("transcript from the ASR model" in w for w in result.warnings)
    assert any("has no text" in w for w in result.warnings)


def test_asr_never_downloads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from affectlens import cli
    from affectlens.audio.asr import AsrUnavailable, load_whisper

    with pytest.raises(AsrUnavailable, match="never downloads"):
        load_whisper("tiny.en")  # a hub name, not a folder
    (tmp_path / "empty").mkdir()
    with pytest.raises(AsrUnavailable, match=r"no model\.bin"):
        load_whisper(tmp_path / "empty")
    code = cli.run(["analyze", str(_media(tmp_path)), "--asr-model", str(tmp_path / "empty")])
    err = capsys.readouterr().err
    assert code != 0 and "no model.bin" in err and "Traceback" not in err


def test_cli_picks_up_a_transcript_beside_the_media(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from affectlens import cli

    media = _media(tmp_path)
    media.with_suffix(".srt").write_text(SRT)
    from affectlens import timeline

    plotted: list[object] = []
    monkeypatch.setattr(timeline, "plot_timeline", lambda segments, path, **_: plotted.extend(segments))
    code = cli.run(["analyze", str(media), "-f", "jsonl", "--plot", str(tmp_path / "fused.png")])
    out, err = capsys.readouterr()
    assert code == 0 and "using the transcript beside it: talk.srt" in err
    assert len(plotted) == 2  # the fused turns are what --plot draws
    segments = json.loads(out)["segments"]
    assert [s["modality"] for s in segments] == ["fused", "fused"]
    assert "text" in segments[0]["extras"]["modalities"]
