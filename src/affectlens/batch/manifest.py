"""The batch output folder: manifest, shards, errors, and the rules that make resuming exact.

Layout of ``--out DIR``::

    manifest.json          inputs (size, mtime, sha256 of the whole file), options, model, status,
                           and when complete: shards with row ranges, counts, timings
    shards/part-SSSSS-UUUUUUU.parquet
                           one per work unit (source S, unit U); written to a hidden temp file
                           and renamed into place with ``os.replace``, so a shard is either
                           complete or absent.  Its footer metadata (``affectlens.unit``) is
                           the unit's done-marker: row range, counts, errors, ``last``.
    errors.jsonl           every input that gave no result: {file, row, id, reason}
    .lock                  held (flock) while a job runs; released by the OS even on kill -9

A rerun lists the shards that exist, skips their units, deletes stale temp files and goes
on.  It refuses to resume when the inputs or the output-shaping options differ from the
manifest (``--restart`` starts over).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from affectlens.batch.sources import ErrorRecord, Source
from affectlens.io.fingerprint import describe_change, file_fingerprint

MANIFEST = "manifest.json"
SHARDS = "shards"
ERRORS = "errors.jsonl"
LOCK = ".lock"
UNIT_METADATA_KEY = b"affectlens.unit"
FORMAT_VERSION = 1
_SHARD_NAME = re.compile(r"^part-(\d{5})-(\d{7})\.parquet$")


class ResumeRefused(ValueError):
    """The output folder holds a different job (other inputs or options)."""


class OutputBusy(RuntimeError):
    """Another process is writing to the same output folder."""


def shard_name(source_index: int, unit_index: int) -> str:
    return f"part-{source_index:05d}-{unit_index:07d}.parquet"


def input_fingerprints(sources: list[Source]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for source in sources:
        if source.kind == "files":
            for rel in source.files:
                out.append({"path": str(source.path / rel), "kind": "file", **file_fingerprint(source.path / rel)})
        else:
            out.append({"path": str(source.path), "kind": source.kind, **file_fingerprint(source.path)})
    return out


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    path = out_dir / MANIFEST
    if not path.is_file():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ResumeRefused(f"{path} is not a valid manifest ({exc}); use --restart to start over") from exc
    return data


def describe_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between two job identities (inputs + options + model)."""
    diffs: list[str] = []
    old_options, new_options = old.get("options", {}), new.get("options", {})
    for key in sorted(set(old_options) | set(new_options)):
        if old_options.get(key) != new_options.get(key):
            diffs.append(f"option {key}: was {old_options.get(key)!r}, now {new_options.get(key)!r}")
    if old.get("model") != new.get("model"):
        diffs.append(f"model: was {old.get('model')}, now {new.get('model')}")
    old_inputs = {i["path"]: i for i in old.get("inputs", [])}
    new_inputs = {i["path"]: i for i in new.get("inputs", [])}
    for path in sorted(set(old_inputs) | set(new_inputs)):
        before, after = old_inputs.get(path), new_inputs.get(path)
        if before is None:
            diffs.append(f"new input file {path}")
        elif after is None:
            diffs.append(f"input file gone: {path}")
        elif (change := describe_change(before, after)) is not None:
            diffs.append(f"input file changed ({change}): {path}")
    return diffs


def prepare_output(out_dir: Path, identity: dict[str, Any], *, restart: bool) -> dict[str, Any]:
    """Create or check ``out_dir`` for this job; returns the manifest to keep updating.

    Raises ``ResumeRefused`` when the folder holds another job or files that are not ours.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    existing = read_manifest(out_dir)
    if restart:
        clear_output(out_dir)
        existing = None
    elif existing is None and any(p.name not in (LOCK,) for p in out_dir.iterdir()):
        raise ResumeRefused(
            f"output folder {out_dir} is not empty and holds no batch manifest; "
            "choose an empty or new folder (or --restart to clear what a batch run left there)"
        )
    if existing is not None:
        if existing.get("format_version") != FORMAT_VERSION:
            raise ResumeRefused(f"{out_dir} was written by another affectlens batch format; use --restart")
        diffs = describe_differences(existing.get("identity", {}), identity)
        if diffs:
            listed = "; ".join(diffs[:5]) + ("; ..." if len(diffs) > 5 else "")
            raise ResumeRefused(
                f"cannot resume in {out_dir}: the job differs from the one started there ({listed}). "
                "Rerun with --restart to start over, or choose another --out"
            )
        manifest = existing
    else:
        manifest = {"format_version": FORMAT_VERSION, "identity": identity, "status": "running", "runs": []}
    remove_temp_files(out_dir)
    (out_dir / SHARDS).mkdir(exist_ok=True)
    return manifest


def clear_output(out_dir: Path) -> None:
    """Delete what a batch run writes (and nothing else) so that a job can start over."""
    shards = out_dir / SHARDS
    if shards.is_dir():
        for path in shards.iterdir():
            if _SHARD_NAME.match(path.name) or path.name.endswith(".tmp"):
                path.unlink()
        with contextlib.suppress(OSError):
            shards.rmdir()
    for name in (MANIFEST, ERRORS):
        with contextlib.suppress(FileNotFoundError):
            (out_dir / name).unlink()
    remove_temp_files(out_dir)


def remove_temp_files(out_dir: Path) -> int:
    """Delete temp files a killed run left behind (they are never part of the output)."""
    removed = 0
    for folder in (out_dir, out_dir / SHARDS):
        if folder.is_dir():
            for path in folder.iterdir():
                if path.name.startswith(".") and path.name.endswith(".tmp"):
                    path.unlink(missing_ok=True)
                    removed += 1
    return removed


@contextlib.contextmanager
def job_lock(out_dir: Path) -> Iterator[None]:
    """Exclusive lock on the output folder (one writer at a time; kill -9 releases it)."""
    import fcntl

    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / LOCK).open("a") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputBusy(f"another affectlens batch is writing to {out_dir}") from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# -- shards --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitInfo:
    """What a committed shard says about its unit (its footer metadata)."""

    source_index: int
    unit_index: int
    source: str
    first_row: int | None
    last_row: int | None
    rows: int  # input rows in the unit
    output_rows: int
    analysed_rows: int  # output rows with a result (no ``error``)
    errors: tuple[ErrorRecord, ...]
    last: bool
    seconds: float
    error_count: int | None = None  # set when ``errors`` was dropped to save memory

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_index": self.source_index, "unit_index": self.unit_index, "source": self.source,
            "first_row": self.first_row, "last_row": self.last_row, "rows": self.rows,
            "output_rows": self.output_rows, "analysed_rows": self.analysed_rows,
            "errors": [e.to_dict() for e in self.errors],
            "last": self.last, "seconds": round(self.seconds, 4),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> UnitInfo:
        return cls(
            int(data["source_index"]), int(data["unit_index"]), data["source"], data.get("first_row"),
            data.get("last_row"), int(data["rows"]), int(data["output_rows"]), int(data["analysed_rows"]),
            tuple(ErrorRecord.from_dict(e) for e in data.get("errors", [])), bool(data["last"]),
            float(data.get("seconds", 0.0)),
        )


def commit_shard(out_dir: Path, table: Any, info: UnitInfo) -> Path:
    """Write ``table`` with ``info`` in its footer, atomically (temp file + ``os.replace``)."""
    import pyarrow.parquet as pq

    final = out_dir / SHARDS / shard_name(info.source_index, info.unit_index)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    metadata = dict(table.schema.metadata or {})
    metadata[UNIT_METADATA_KEY] = json.dumps(info.to_dict(), ensure_ascii=False).encode("utf-8")
    try:
        pq.write_table(table.replace_schema_metadata(metadata), tmp, compression="zstd")
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def committed_units(out_dir: Path) -> dict[tuple[int, int], Path]:
    """(source, unit) -> shard path, for every shard in place."""
    found: dict[tuple[int, int], Path] = {}
    folder = out_dir / SHARDS
    if folder.is_dir():
        for path in folder.iterdir():
            match = _SHARD_NAME.match(path.name)
            if match:
                found[(int(match.group(1)), int(match.group(2)))] = path
    return found


def unit_info(path: Path) -> UnitInfo:
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    return UnitInfo.from_dict(json.loads(metadata[UNIT_METADATA_KEY]))


def finished_sources(units: Mapping[tuple[int, int], Path]) -> set[int]:
    """Sources whose every unit is committed (their last unit is, and no unit is missing)."""
    by_source: dict[int, list[int]] = {}
    for source_index, unit_index in units:
        by_source.setdefault(source_index, []).append(unit_index)
    done = set()
    for source_index, indices in by_source.items():
        top = max(indices)
        if len(indices) == top + 1 and unit_info(units[(source_index, top)]).last:
            done.add(source_index)
    return done


def write_errors(out_dir: Path, shards: Iterable[Path]) -> tuple[list[UnitInfo], int]:
    """``errors.jsonl`` from the shards' records, in the given order (written atomically, streamed).

    Returns each shard's record without its error list (kept small for the manifest) and the
    number of errors written.
    """
    path = out_dir / ERRORS
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    count = 0
    infos: list[UnitInfo] = []
    with tmp.open("w", encoding="utf-8") as fh:
        for shard in shards:
            info = unit_info(shard)
            for error in info.errors:
                fh.write(json.dumps(error.to_dict(), ensure_ascii=False) + "\n")
            count += len(info.errors)
            infos.append(replace(info, errors=(), error_count=len(info.errors)))
    os.replace(tmp, path)
    return infos, count
