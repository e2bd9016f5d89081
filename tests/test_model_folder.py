"""The one model-folder loader (`model_folder`): ONNX head folders, config schema, hashes, cards, listing facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from affectlens.model_folder import load_onnx_heads
from affectlens.recognizers.text_onnx import ModelFilesMissing, ModelIntegrityError
from affectlens.runtime_threads import ALLOW_SPINNING
from affectlens.testing.support_model import write_tiny_model


def test_loads_every_head_with_the_process_thread_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AFFECTLENS_THREAD_SPINNING", raising=False)
    config, heads = load_onnx_heads(write_tiny_model(tmp_path), kind="support", threads=1)
    assert set(heads) == set(config["heads"]) == {"observe", "suggest"}
    options = heads["suggest"].get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry(ALLOW_SPINNING) == "0"  # no spinning unless asked


def test_missing_config_names_the_kind_of_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelFilesMissing, match=r"no config\.json in support model folder"):
        load_onnx_heads(tmp_path, kind="support", threads=1)


def test_missing_head_is_reported(tmp_path: Path) -> None:
    (write_tiny_model(tmp_path) / "head_observe.onnx").unlink()
    with pytest.raises(ModelFilesMissing, match=r"missing head_observe\.onnx"):
        load_onnx_heads(tmp_path, kind="conversation", threads=1)


def test_changed_head_fails_the_hash_check_unless_verify_is_off(tmp_path: Path) -> None:
    folder = write_tiny_model(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["sha256"]["head_suggest.onnx"] = "0" * 64
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        load_onnx_heads(folder, kind="support", threads=1)
    assert set(load_onnx_heads(folder, kind="support", threads=1, verify=False)[1]) == {"observe", "suggest"}


# -- the one model-folder loader (issue 22, item 3) -----------------------------------------------

SHIPPED_RECOGNIZER_FOLDERS = ("text-minilm-goemotions-v1", "dialogue-minilm-meld-bigru-v1", "support-esconv-minilm-v1",
                              "speech-ravdess-cnn-v1", "speech-whisper-tiny-xcorpus-v1", "speech-whisper-xcorpus-v3",
                              "speech-whisper-xcorpus-v4", "speech-whisper-xcorpus-v5", "face-ferplus-cnn-v1",
                              "cause-reccon-logreg-v1", "cause-span-reccon-v1")


def test_every_model_error_is_one_type() -> None:
    from affectlens.audio.vad import VadModelError
    from affectlens.model_folder import ModelFilesError
    from affectlens.model_folder import ModelFilesMissing as Missing
    from affectlens.recognizers.face_onnx import FaceModelFilesMissing, FaceModelIntegrityError
    from affectlens.recognizers.speech_onnx import SpeechModelError, SpeechModelFilesMissing

    assert ModelIntegrityError is FaceModelIntegrityError is SpeechModelError is VadModelError is ModelFilesError
    assert ModelFilesMissing is FaceModelFilesMissing is SpeechModelFilesMissing is Missing
    assert issubclass(Missing, ModelFilesError) and issubclass(Missing, FileNotFoundError)


@pytest.mark.parametrize(("config", "complaint"), [
    ("[1, 2]", "JSON object"),
    ("{not json", "not readable JSON"),
    ('{"labels": "joy"}', "'labels' must be"),
    ('{"labels": ["joy", "joy"]}', "'labels' must be"),
    ('{"labels": ["joy"], "sha256": {"model.onnx": "abc"}}', "64 lower-case hex"),
    ('{"labels": ["joy"], "license": 3}', "'license' must be a string"),
    ('{"name": "x"}', "lacks 'labels'"),
])
def test_config_schema_is_checked(tmp_path: Path, config: str, complaint: str) -> None:
    from affectlens.model_folder import ModelFilesError, ModelFolder

    (tmp_path / "config.json").write_text(config)
    with pytest.raises(ModelFilesError, match=complaint):
        ModelFolder.open(tmp_path, required_keys=("labels",))


def test_needed_pinned_and_card_files(tmp_path: Path) -> None:
    from affectlens.model_folder import ModelFilesError, ModelFolder

    (tmp_path / "weights.bin").write_bytes(b"abc")
    digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # sha256 of b"abc"
    (tmp_path / "config.json").write_text(json.dumps({"labels": ["joy"], "sha256": {"weights.bin": digest}}))
    folder = ModelFolder.open(tmp_path, needs=["weights.bin"], pinned=True)
    assert folder.config["labels"] == ["joy"] and folder.file("weights.bin") == tmp_path / "weights.bin"
    with pytest.raises(ModelFilesMissing, match=r"missing other\.bin in speech model folder"):
        ModelFolder.open(tmp_path, kind="speech", needs=["other.bin"])
    with pytest.raises(ModelFilesMissing, match=r"MODEL_CARD\.md"):
        ModelFolder.open(tmp_path, card=True)
    (tmp_path / "extra.bin").write_bytes(b"x")
    with pytest.raises(ModelFilesError, match="no sha256 pinned"):
        ModelFolder.open(tmp_path, needs=["extra.bin"], pinned=True)
    (tmp_path / "weights.bin").write_bytes(b"abd")
    with pytest.raises(ModelFilesError, match="sha256"):
        ModelFolder.open(tmp_path)
    assert ModelFolder.open(tmp_path, verify=False).path == tmp_path


@pytest.mark.parametrize("name", SHIPPED_RECOGNIZER_FOLDERS)
def test_shipped_folders_pass_every_check(name: str) -> None:
    from affectlens.model_folder import ModelFolder, describe, unpinned_files
    from affectlens.models import MODELS_DIR

    folder = MODELS_DIR / name
    opened = ModelFolder.open(folder, needs=list(json.loads((folder / "config.json").read_text())["sha256"]),
                              card=True, pinned=True)
    assert unpinned_files(folder, opened.config) == [], "every file that runs must have its sha256 pinned"
    facts = describe(folder)
    assert facts.license and facts.training_data, "license and training data are stated in the folder's config"
    assert facts.size_bytes and facts.size_bytes > 0


def test_the_vad_folder_is_checked_by_the_same_loader() -> None:
    from affectlens.model_folder import ModelFolder
    from affectlens.models import MODELS_DIR

    folder = ModelFolder.open(MODELS_DIR / "vad-silero-v6", needs=["silero_vad_16k_sequence.onnx"], pinned=True)
    assert (folder.path / "LICENSE").is_file() and "MIT" in folder.config["license"]


def test_the_registry_lists_what_the_folders_say() -> None:
    from affectlens.model_folder import describe
    from affectlens.models import MODELS_DIR
    from affectlens.registry import get_spec

    for name, folder in (("text.minilm-xcorpus.v4", "text-minilm-xcorpus-v4"),
                         ("text.minilm-xcorpus.v3", "text-minilm-xcorpus-v3"),
                         ("text.minilm-xcorpus.v2", "text-minilm-xcorpus-v2"),
                         ("text.minilm-goemotions.v1", "text-minilm-goemotions-v1"),
                         ("text.minilm-goemotions-float.v1", "text-minilm-goemotions-v1"),
                         ("dialogue.minilm-meld-bigru.v1", "dialogue-minilm-meld-bigru-v1"),
                         ("support.esconv-minilm.v1", "support-esconv-minilm-v1"),
                         ("speech.ravdess-cnn.v1", "speech-ravdess-cnn-v1"),
                         ("speech.whisper-tiny-xcorpus.v1", "speech-whisper-tiny-xcorpus-v1"),
                         ("speech.whisper-xcorpus.v3", "speech-whisper-xcorpus-v3"),
                         ("speech.whisper-xcorpus.v4", "speech-whisper-xcorpus-v4"),
                         ("speech.whisper-xcorpus.v5", "speech-whisper-xcorpus-v5"),
                         ("face.ferplus-cnn.v1", "face-ferplus-cnn-v1"),
                         ("face.ferplus-wild-fusion.v2", "face-ferplus-wild-fusion-v2"),
                         ("face.ferplus-wild-fusion.v3", "face-ferplus-wild-fusion-v3"),
                         ("face.ferplus-wild-fusion.v4", "face-ferplus-wild-fusion-v4"),
                         ("face.ferplus-wild-fusion.v5", "face-ferplus-wild-fusion-v5")):
        spec, facts = get_spec(name), describe(MODELS_DIR / folder)
        assert (spec.license, spec.training_data, spec.size_bytes) == (
            facts.license, facts.training_data, facts.size_bytes), name


def test_describe_never_raises(tmp_path: Path) -> None:
    from affectlens.model_folder import describe

    assert describe(tmp_path / "absent") == describe(tmp_path)
    assert describe(tmp_path).license == "" and describe(tmp_path).size_bytes is None
