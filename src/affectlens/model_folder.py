"""The one loader of model folders: ``config.json`` checked against a schema, the sha256 it pins, the model card.

Every shipped model (``models/<name>/``) and every user folder of the same layout is opened
through :meth:`ModelFolder.open`, which raises one error type, :class:`ModelFilesError`
(:class:`ModelFilesMissing`, also a ``FileNotFoundError``, where a file is absent):

* ``config.json`` (or the named config file) must be a JSON object whose common keys have the
  right types: ``sha256`` maps file names to 64 hex digits; ``labels`` is a list of distinct
  names; ``name``, ``version``, ``label_set``, ``license`` and ``training_data`` are strings;
  a recognizer names the keys it cannot do without (``required_keys``);
* every file the recognizer needs is present, and with ``verify`` on, every pinned file that
  is present matches its sha256 (a graph may read weights out of another pinned file);
* with ``card=True`` the folder holds ``MODEL_CARD.md`` (every shipped recognizer's folder
  does; a user's export need not).

A shipped folder's license and training data are read from its config (``license``,
``training_data``) by :func:`describe`, which the registry's listing uses, so they are
written once, beside the weights and the card that explains them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CARD_FILE = "MODEL_CARD.md"
#: files of a folder that document it rather than run: not pinned (``unpinned_files``)
DOCUMENT_PATTERNS = ("*.md", "LICENSE", "config*.json", "metrics*.json", "training.json")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_STRING_KEYS = ("name", "version", "label_set", "license", "training_data", "model_file")


class ModelFilesError(RuntimeError):
    """A model folder is incomplete or altered: a config that does not parse or fit its schema,
    a file missing, a file whose sha256 differs from the pinned one."""


class ModelFilesMissing(ModelFilesError, FileNotFoundError):
    """The model folder lacks a file it needs."""


@dataclass(frozen=True)
class ModelFolder:
    """An opened model folder: its path and its checked config."""

    path: Path
    config: dict[str, Any]
    kind: str = "model"
    config_file: str = "config.json"

    @classmethod
    def open(cls, path: str | Path, *, kind: str = "model", config_file: str = "config.json",
             needs: Sequence[str] = (), required_keys: Sequence[str] = (), verify: bool = True,
             pinned: bool = False, card: bool = False) -> ModelFolder:
        """Read and check ``path``: ``read``, then ``check_files(needs, verify=verify, pinned=pinned)``."""
        return cls.read(path, kind=kind, config_file=config_file, required_keys=required_keys,
                        card=card).check_files(needs, verify=verify, pinned=pinned)

    @classmethod
    def read(cls, path: str | Path, *, kind: str = "model", config_file: str = "config.json",
             required_keys: Sequence[str] = (), card: bool = False) -> ModelFolder:
        """The folder's config, schema-checked (``kind`` names the folder in errors); no file is hashed yet."""
        folder = Path(path)
        config_path = folder / config_file
        if not config_path.is_file():
            raise ModelFilesMissing(f"model files missing: no {config_file} in {kind} model folder {folder}")
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ModelFilesError(f"{config_path} is not readable JSON: {exc}") from None
        check_config(config, config_path, required_keys)
        if card and not (folder / CARD_FILE).is_file():
            raise ModelFilesMissing(f"no {CARD_FILE} in {kind} model folder {folder}")
        return cls(folder, config, kind, config_file)

    def check_files(self, needs: Sequence[str] = (), *, verify: bool = True, pinned: bool = False) -> ModelFolder:
        """Raise unless every file in ``needs`` is here and (``verify``) every pinned file present has its sha256.

        With ``pinned`` (and ``verify``), each file in ``needs`` must also have a sha256 in the config.
        """
        for name in needs:
            self.file(name)
        if verify:
            from affectlens.models import sha256_file

            unpinned = [name for name in needs if name not in self.config.get("sha256", {})] if pinned else []
            if unpinned:
                raise ModelFilesError(f"{', '.join(unpinned)} in {self.path}: no sha256 pinned in {self.config_file}")

            for name, expected in self.config.get("sha256", {}).items():
                file = self.path / name
                if file.is_file() and sha256_file(file) != expected:
                    raise ModelFilesError(f"{file} does not match the sha256 pinned in {self.config_file}")
        return self

    def file(self, name: str) -> Path:
        """``name`` inside the folder; ``ModelFilesMissing`` when it is not there."""
        path = self.path / name
        if not path.is_file():
            raise ModelFilesMissing(f"missing {name} in {self.kind} model folder {self.path}")
        return path


def check_config(config: Any, where: Path | str, required_keys: Sequence[str] = ()) -> None:
    """Raise ``ModelFilesError`` unless ``config`` fits the common schema (see the module)."""
    if not isinstance(config, dict):
        raise ModelFilesError(f"{where} must hold a JSON object, not {type(config).__name__}")
    missing = [key for key in required_keys if key not in config]
    if missing:
        raise ModelFilesError(f"{where} lacks {', '.join(map(repr, missing))}")
    pins = config.get("sha256", {})
    if not isinstance(pins, dict) or not all(
            isinstance(name, str) and isinstance(digest, str) and _DIGEST.fullmatch(digest)
            for name, digest in pins.items()):
        raise ModelFilesError(f"{where}: 'sha256' must map file names to 64 lower-case hex digits")
    for key in _STRING_KEYS:
        if key in config and not isinstance(config[key], str):
            raise ModelFilesError(f"{where}: {key!r} must be a string, not {type(config[key]).__name__}")
    labels = config.get("labels")
    if labels is not None and (not isinstance(labels, list) or not labels
                               or not all(isinstance(x, str) and x for x in labels) or len(set(labels)) != len(labels)):
        raise ModelFilesError(f"{where}: 'labels' must be a non-empty list of distinct names")


def unpinned_files(folder: Path, config: dict[str, Any]) -> list[str]:
    """Files of ``folder`` that are neither pinned by ``config`` nor documentation (``DOCUMENT_PATTERNS``)."""
    pinned = set(config.get("sha256", {}))
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in pinned
                  and not any(p.match(pattern) for pattern in DOCUMENT_PATTERNS))


@dataclass(frozen=True)
class FolderFacts:
    """What a listing of models shows of a folder: its license, training data and size."""

    license: str
    training_data: str
    size_bytes: int | None


def describe(folder: Path) -> FolderFacts:
    """License and training data from ``folder``'s config, and its size; empty strings where it cannot tell.

    Never raises (the registry lists models whose folder is not in place); the test of the shipped
    folders checks that each one states both.
    """
    files = [p for p in folder.glob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files) if files else None
    try:
        config = ModelFolder.open(folder, verify=False).config
    except ModelFilesError:
        return FolderFacts("", "", size)
    return FolderFacts(str(config.get("license", "")), str(config.get("training_data", "")), size)


def load_onnx_heads(model_dir: Path, *, kind: str, threads: int, verify: bool = True
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(config, sessions by mode)`` of a folder whose ``config.json`` names ONNX ``heads`` (mode -> file).

    The conversation model (``dialogue/context_model.py``) and the support model
    (``dialogue/support.py``) ship such folders: one small head per mode on the text encoder's
    features.  Sessions are built with :func:`affectlens.runtime_threads.session_options`
    (``threads`` intra-op threads, the process's spinning setting).
    """
    import onnxruntime as ort

    from affectlens.runtime_threads import session_options

    folder = ModelFolder.read(model_dir, kind=kind, required_keys=("heads",))
    heads_named = folder.config["heads"]
    if not isinstance(heads_named, dict) or not all(isinstance(f, str) for f in heads_named.values()):
        raise ModelFilesError(f"{model_dir / 'config.json'}: 'heads' must map modes to file names")
    folder.check_files(list(heads_named.values()), verify=verify, pinned=True)
    files = {mode: folder.path / name for mode, name in heads_named.items()}
    # small heads: graph optimisation is left at onnxruntime's default
    options = session_options(ort, threads=threads, optimize=False)
    heads = {mode: ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
             for mode, path in files.items()}
    return folder.config, heads


__all__ = ["CARD_FILE", "FolderFacts", "ModelFilesError", "ModelFilesMissing", "ModelFolder", "check_config",
           "describe", "load_onnx_heads", "unpinned_files"]
