"""The speech recognizer: contract, segments on a timeline, cues, normalisation, bad input, CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from affectlens.bench.datasets import data_root

pytest.importorskip("onnx")
sf = pytest.importorskip("soundfile")

from affectlens import processing, registry  # noqa: E402
from affectlens.inputs import AudioClip  # noqa: E402
from affectlens.recognizers.speech_onnx import (  # noqa: E402
    DEFAULT_MODEL_DIR,
    SpeechModelError,
    SpeechOnnxRecognizer,
)
from affectlens.testing import EnergyVad, check_recognizer, make_tiny_speech_model  # noqa: E402
from affectlens.types import EmotionResult, Modality  # noqa: E402
from speech_audio import RATE, TALK, silence, voice  # noqa: E402

DATA = data_root() / "ravdess_speech_16k"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_speech_model(tmp_path_factory.mktemp("speech") / "tiny")


@pytest.fixture
def recognizer(model_dir: Path) -> SpeechOnnxRecognizer:
    return SpeechOnnxRecognizer(model_dir=model_dir, vad=EnergyVad())


def test_meets_the_contract(model_dir: Path, recognizer: SpeechOnnxRecognizer) -> None:
    samples = [AudioClip(TALK, RATE, source="talk"), AudioClip(voice(200, 1.0), 8_000), AudioClip(silence(1), RATE)]
    report = check_recognizer(recognizer, samples,
                              factory=lambda: SpeechOnnxRecognizer(model_dir=model_dir, vad=EnergyVad()))
    assert "results_well_formed" in report.passed and not report.failed


def test_segments_form_a_timeline_with_cues(recognizer: SpeechOnnxRecognizer) -> None:
    [result] = recognizer.analyze([AudioClip(TALK, RATE, source="talk.wav", offset=10.0)])
    assert len(result.segments) == 3 and not result.warnings
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts)
    assert np.allclose([(s.start, s.end) for s in result.segments],
                       [(10.4, 12.1), (12.9, 15.1), (15.9, 17.3)], atol=0.15)
    loud = result.segments[1]
    assert loud.modality == Modality.SPEECH and loud.label_set == "ravdess" and len(loud.scores) == 8
    assert abs(sum(loud.scores.values()) - 1.0) < 1e-6 and loud.vad is not None
    assert loud.extras["normalisation"] == "file"
    pitch = next(c for c in loud.cues if c.phrase.startswith("pitch"))
    assert pitch.kind == "prosody" and pitch.value is not None and pitch.value > 1
    assert pitch.phrase.endswith("above this file's median") and pitch.time == (loud.start, loud.end)
    assert json.loads(result.to_json())  # strict JSON: no NaN in extras


def test_short_input_uses_utterance_normalisation_and_reference_cues(recognizer: SpeechOnnxRecognizer) -> None:
    [result] = recognizer.analyze([AudioClip(np.concatenate([silence(0.3), voice(300, 1.2, 0.6)]), RATE)])
    [segment] = result.segments
    assert segment.extras["normalisation"] == "utterance"
    assert all(c.phrase.endswith("typical RAVDESS speech") for c in segment.cues)


def test_normalisation_can_be_forced(model_dir: Path) -> None:
    rec = SpeechOnnxRecognizer(model_dir=model_dir, vad=EnergyVad(), normalisation="utterance")
    [result] = rec.analyze([AudioClip(TALK, RATE)])
    assert {s.extras["normalisation"] for s in result.segments} == {"utterance"}
    with pytest.raises(ValueError):
        SpeechOnnxRecognizer(normalisation="speaker")


def test_bad_items_give_explained_empty_results(recognizer: SpeechOnnxRecognizer) -> None:
    stereo_int = (np.stack([TALK, TALK], axis=1) * 20000).astype(np.int16)
    nan = TALK.copy()
    nan[100] = np.nan
    batch: list[Any] = [AudioClip(silence(3), RATE), "not audio", AudioClip(np.zeros(0, np.float32), RATE),
                        AudioClip(nan, RATE), AudioClip(stereo_int, RATE), AudioClip(TALK, RATE)]
    results = recognizer.analyze(batch)
    assert len(results) == len(batch)
    assert "no speech found in 3.0 s" in results[0].warnings[0]
    assert "expected audio" in results[1].warnings[0]
    assert "empty audio" in results[2].warnings[0]
    assert "NaN" in results[3].warnings[0]
    assert all(r.is_empty for r in results[:4])
    assert len(results[4].segments) == 3 and len(results[5].segments) == 3  # int16 stereo works


def test_telephone_audio_warns_but_works(recognizer: SpeechOnnxRecognizer) -> None:
    narrow = TALK[::2].copy()  # 8 kHz
    [result] = recognizer.analyze([AudioClip(narrow, 8_000)])
    assert len(result.segments) == 3 and "telephone" in result.warnings[0]


def test_model_files_are_verified(tmp_path: Path) -> None:
    folder = make_tiny_speech_model(tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    config["sha256"]["model.onnx"] = "0" * 64
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(SpeechModelError, match="sha256"):
        SpeechOnnxRecognizer(model_dir=folder).load()
    with pytest.raises(FileNotFoundError, match="missing"):
        SpeechOnnxRecognizer(model_dir=tmp_path / "nowhere").load()


def test_files_stream_through_processing(tmp_path: Path, recognizer: SpeechOnnxRecognizer) -> None:
    folder = tmp_path / "calls"
    folder.mkdir()
    sf.write(folder / "a.wav", TALK, RATE)
    sf.write(folder / "b.flac", np.concatenate([TALK, TALK]), RATE)
    (folder / "c.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEbroken" * 3)
    sf.write(folder / "d.wav", silence(2.0), RATE)
    results = list(processing.start_analysis(folder, model=recognizer).results)
    assert [r.record_id for r in results] == ["a.wav", "b.flac", "c.wav", "d.wav"]
    assert len(results[0].segments) == 3 and len(results[1].segments) == 6
    assert results[1].segments[-1].end == pytest.approx(2 * TALK.size / RATE - 0.5, abs=0.2)
    assert results[2].is_empty and "cannot decode" in results[2].warnings[0]
    assert results[3].is_empty and "no speech" in results[3].warnings[0]
    assert results[0].segments[0].source == str(folder / "a.wav")


@pytest.fixture
def tiny_registered(isolated_registry: dict[str, registry.RecognizerSpec], model_dir: Path,
                    monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AFFECTLENS_TEST_SPEECH_DIR", str(model_dir))
    for name, spec in list(isolated_registry.items()):
        if spec.modality == Modality.SPEECH:
            del isolated_registry[name]
    spec = registry.RecognizerSpec("speech.tiny.v1", Modality.SPEECH, "ravdess", f"{__name__}:tiny_factory",
                                   default=True)
    isolated_registry[spec.name] = spec
    return spec.name


def tiny_factory(**params: Any) -> SpeechOnnxRecognizer:
    import os

    return SpeechOnnxRecognizer(model_dir=os.environ["AFFECTLENS_TEST_SPEECH_DIR"], vad=EnergyVad(),
                                name="speech.tiny.v1", **params)


def test_cli_prints_a_timeline_and_writes_csv_json_and_plot(tmp_path: Path, tiny_registered: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    from affectlens.cli import run

    wav = tmp_path / "talk.wav"
    sf.write(wav, TALK, RATE)
    assert run(["analyze", str(wav), "--no-words"]) == 0  # the voice timeline alone (no Whisper words)
    table = capsys.readouterr().out
    for word in ("start", "end", "emotion", "arousal", "main cue", "0:00.38"):
        assert word in table
    csv_path, json_path, png = tmp_path / "t.csv", tmp_path / "t.json", tmp_path / "timeline.png"
    assert run(["analyze", str(wav), "--no-words", "--output", str(csv_path), "--plot", str(png)]) == 0
    import pandas as pd

    frame = pd.read_csv(csv_path)
    assert list(frame["start"].round(1)) == [0.4, 2.9, 5.9] and "arousal" in frame and "top_label" in frame
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 10_000
    assert run(["analyze", str(wav), "--no-words", "-o", str(json_path)]) == 0
    data = json.loads(json_path.read_text())
    [result] = data["results"]
    assert [round(s["end"], 1) for s in result["segments"]] == [2.1, 5.1, 7.3]
    EmotionResult.from_dict(result)


def test_cli_explains_silence(tmp_path: Path, tiny_registered: str, capsys: pytest.CaptureFixture[str]) -> None:
    from affectlens.cli import run

    wav = tmp_path / "quiet.wav"
    sf.write(wav, silence(2.0), RATE)
    assert run(["analyze", str(wav)]) == 0
    captured = capsys.readouterr()
    assert "no speech found" in captured.out + captured.err


def test_shipped_model_meets_the_contract() -> None:
    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        pytest.skip("the trained speech model is not in place")
    rec = SpeechOnnxRecognizer()
    check_recognizer(rec, [AudioClip(TALK, RATE), AudioClip(silence(1), RATE)])


@pytest.mark.data
def test_shipped_model_on_ravdess_actor_files() -> None:
    if not (DEFAULT_MODEL_DIR / "config.json").is_file() or not DATA.is_dir():
        pytest.skip("needs the trained model and ../shared/datasets/ravdess_speech_16k")
    from affectlens.audio import open_audio

    rec = SpeechOnnxRecognizer()
    angry = open_audio(DATA / "Actor_01" / "03-01-05-02-01-01-01.flac")
    [result] = rec.analyze([angry])
    [segment] = result.segments
    assert segment.extras["normalisation"] == "utterance" and segment.cues
    assert 0.5 < segment.start < 1.5 and segment.top_label in segment.scores


def test_truncated_file_keeps_what_was_decoded(tmp_path: Path, recognizer: SpeechOnnxRecognizer) -> None:
    from affectlens.audio import open_audio

    whole = tmp_path / "long.flac"
    sf.write(whole, np.concatenate([TALK] * 4), RATE)
    data = whole.read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(data[: len(data) // 2])
    [result] = recognizer.analyze([open_audio(cut)])
    assert len(result.segments) >= 3
    assert "stopped at" in result.warnings[0] and "kept the" in result.warnings[0]


def with_functional_member(model_dir: Path, folder: Path, favoured: str, *, utterance: str | None = None) -> Path:
    """The tiny model plus a functional member that reads only pitch: the higher, the more ``favoured``;
    with ``utterance``, also an utterance-mode member that always says ``utterance``."""
    import shutil

    from affectlens.features.functionals import FUNCTIONAL_NAMES
    from affectlens.models import sha256_file
    from affectlens.testing import RAVDESS_LABELS

    shutil.copytree(model_dir, folder)
    n = len(FUNCTIONAL_NAMES)
    coef = np.zeros((len(RAVDESS_LABELS), n))
    coef[RAVDESS_LABELS.index(favoured), FUNCTIONAL_NAMES.index("pitch_st_mean")] = 20.0
    weights = {"names": list(FUNCTIONAL_NAMES), "std_floor": [1e-3] * n, "scaler_mean": [0.0] * n,
               "scaler_scale": [1.0] * n, "coef": coef.tolist(), "intercept": [0.0] * len(RAVDESS_LABELS)}
    (folder / "functional_lr.json").write_text(json.dumps(weights), encoding="utf-8")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["functional_member"] = {"file": "functional_lr.json", "modes": ["file"], "temperature_file": 1.0}
    config["sha256"]["functional_lr.json"] = sha256_file(folder / "functional_lr.json")
    if utterance is not None:
        intercept = [0.0] * len(RAVDESS_LABELS)
        intercept[RAVDESS_LABELS.index(utterance)] = 30.0
        raw = {k: v for k, v in weights.items() if k != "std_floor"}
        (folder / "functional_lr_utterance.json").write_text(json.dumps({**raw, "coef": np.zeros_like(coef).tolist(),
                                                                        "intercept": intercept}), encoding="utf-8")
        config["functional_member"].update({"utterance_file": "functional_lr_utterance.json",
                                            "modes": ["file", "utterance"], "temperature_utterance": 1.0})
        config["sha256"]["functional_lr_utterance.json"] = sha256_file(folder / "functional_lr_utterance.json")
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def test_functional_member_joins_in_file_mode_only(model_dir: Path, tmp_path: Path) -> None:
    folder = with_functional_member(model_dir, tmp_path / "with-functionals", favoured="surprised")
    [plain] = SpeechOnnxRecognizer(model_dir=model_dir, vad=EnergyVad()).analyze([AudioClip(TALK, RATE)])
    [mixed] = SpeechOnnxRecognizer(model_dir=folder, vad=EnergyVad()).analyze([AudioClip(TALK, RATE)])
    assert [s.extras["normalisation"] for s in mixed.segments] == ["file"] * 3
    # the 250 Hz segment is the file's highest voice: the pitch-reading member tips it to "surprised"
    assert plain.segments[1].top_label != "surprised" and mixed.segments[1].top_label == "surprised"
    assert mixed.segments[1].scores["surprised"] > 0.45
    assert mixed.segments[0].scores["surprised"] < plain.segments[0].scores["surprised"]
    forced = SpeechOnnxRecognizer(model_dir=folder, vad=EnergyVad(), normalisation="utterance")
    plain_utt = SpeechOnnxRecognizer(model_dir=model_dir, vad=EnergyVad(), normalisation="utterance")
    [a], [b] = forced.analyze([AudioClip(TALK, RATE)]), plain_utt.analyze([AudioClip(TALK, RATE)])
    assert [s.scores for s in a.segments] == [s.scores for s in b.segments]


def test_functional_member_file_is_verified(model_dir: Path, tmp_path: Path) -> None:
    folder = with_functional_member(model_dir, tmp_path / "tampered", favoured="happy")
    weights = json.loads((folder / "functional_lr.json").read_text(encoding="utf-8"))
    weights["intercept"][0] = 5.0
    (folder / "functional_lr.json").write_text(json.dumps(weights), encoding="utf-8")
    with pytest.raises(SpeechModelError):
        SpeechOnnxRecognizer(model_dir=folder, vad=EnergyVad()).load()


def test_utterance_member_joins_in_utterance_mode(model_dir: Path, tmp_path: Path) -> None:
    folder = with_functional_member(model_dir, tmp_path / "both", favoured="surprised", utterance="calm")
    short = AudioClip(np.concatenate([silence(0.3), voice(300, 1.2, 0.6)]), RATE)
    [plain] = SpeechOnnxRecognizer(model_dir=model_dir, vad=EnergyVad()).analyze([short])
    [mixed] = SpeechOnnxRecognizer(model_dir=folder, vad=EnergyVad()).analyze([short])
    assert mixed.segments[0].extras["normalisation"] == "utterance"
    # a member certain of "calm" holds half the vote: calm wins, whatever the networks say
    assert plain.segments[0].top_label != "calm" and mixed.segments[0].top_label == "calm"
    [whole] = SpeechOnnxRecognizer(model_dir=folder, vad=EnergyVad()).analyze([AudioClip(TALK, RATE)])
    assert whole.segments[1].top_label == "surprised"  # file mode still uses the file member
