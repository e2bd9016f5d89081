"""Whole-file fingerprints for resuming: a change anywhere in an input refuses the resume.

Size and mtime alone miss an edit that keeps both (``cp --preserve``, ``touch -r``, a
rewrite within the same second on coarse filesystems), and a hash of the first megabyte
misses every change after it.  So the whole file is hashed, streamed in 1 MB blocks
(memory stays flat).  SHA-256, not BLAKE2b: with the SHA extensions of current x86 CPUs
OpenSSL's SHA-256 measured 308-331 MB/s here against BLAKE2b's 184-219 MB/s.  Measured cost:
``benchmarks/fingerprint_cost.py`` (a 1 GB file hashes in a few seconds; the model needs
hours for the rows such a file holds).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from affectlens.models import sha256_file

HASH_KEY = "sha256"


def hash_file(path: str | Path) -> str:
    """SHA-256 of the whole file, read in 1 MB blocks (the one the model checks use, ``sha256_file``)."""
    return sha256_file(Path(path))


def file_fingerprint(path: str | Path) -> dict[str, Any]:
    """Size, mtime and the hash of the whole content."""
    path = Path(path)
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, HASH_KEY: hash_file(path)}


def describe_change(before: Mapping[str, Any], after: Mapping[str, Any]) -> str | None:
    """What differs between two fingerprints of one file, in words (``None``: the same content).

    The content decides: a file only touched (new mtime, same bytes) resumes; a content
    change with the same size and mtime is named as such, since it is the case a
    size-and-mtime check would miss.
    """
    if HASH_KEY not in before:
        return "recorded by an older version without a whole-file hash; use --restart"
    if before.get("size") == after.get("size") and before.get(HASH_KEY) == after.get(HASH_KEY):
        return None
    if before.get("size") != after.get("size"):
        return f"size {before.get('size')} -> {after.get('size')} bytes, content"
    same_time = before.get("mtime_ns") == after.get("mtime_ns")
    return "content, same size" + (" and modification time" if same_time else "")


def sidecar_path(out: Path) -> Path:
    """Where a resumable single-file output (``--resume``) keeps the fingerprints of what it holds."""
    return out.with_name(f".{out.name}.input.json")


def content_hash(value: Any) -> str:
    """SHA-256 of a JSON-serialisable value (e.g. one dialogue's turns), key order ignored."""
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def record_parts(out: Path, input_path: Path, parts: Mapping[str, str]) -> None:
    """Remember which input ``out`` is written from and a hash of each part (dialogue) in it."""
    data = {"path": str(input_path.resolve()), "parts": dict(parts)}
    sidecar_path(out).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def changed_parts(out: Path, input_path: Path, parts: Mapping[str, str], done: set[str]) -> str | None:
    """Why ``out`` cannot be resumed: a part it already holds (``done``) whose content changed in the
    input since (``None``: it can be, or nothing was recorded).  Parts the input only adds are fine:
    they are what resuming is for."""
    try:
        before = json.loads(sidecar_path(out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if before.get("path") != str(input_path.resolve()):
        return f"{out} was started from another input, {before.get('path')}"
    recorded = before.get("parts", {})
    changed = sorted(p for p in done if p in recorded and parts.get(p) != recorded[p])
    if not changed:
        return None
    return (f"{len(changed)} dialogue(s) already in {out} changed in {input_path} since "
            f"(e.g. {changed[0]!r}: its turns differ)")
