"""What the whole-file resume fingerprint costs next to the model (issue 21, item 10).

Usage: python benchmarks/fingerprint_cost.py [--mb 1024] [--row-bytes 100] [--rows-per-s 460] [--workdir DIR]

Writes a ``--mb`` MB file of random-ish text rows (not sparse: the bytes are really on disk),
then times, on it:

* ``affectlens.io.fingerprint.hash_file`` (SHA-256, 1 MB blocks): the resume check, twice;
* ``hashlib.blake2b`` over the same 1 MB blocks, the alternative;
* the old first-megabyte hash, for scale.

The first pass after writing may be served from the page cache (the file was just written);
a second pass is reported too.  The model's side: ``--rows-per-s`` is the default text
model's measured batch rate (docs/batch.md; rerun ``benchmarks/batch_throughput.py`` for this
machine's figure), so a file of ``--mb`` MB with ``--row-bytes`` bytes per row needs
``rows / rows_per_s`` seconds of model time.  Prints one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from affectlens.io.fingerprint import hash_file


def _write(path: Path, megabytes: int, row_bytes: int) -> int:
    line = (b"I can't believe how this turned out, honestly so happy and a bit nervous " * 4)[: row_bytes - 7]
    rows = 0
    block = bytearray()
    with path.open("wb") as handle:
        while handle.tell() + len(block) < megabytes << 20:
            block += line + f"{rows % 1000000:06d}\n".encode()
            rows += 1
            if len(block) >= 1 << 22:
                handle.write(block)
                block.clear()
        handle.write(block)
    return rows


def _timed(fn: object) -> tuple[float, str]:
    start = time.perf_counter()
    digest = fn()  # type: ignore[operator]
    return time.perf_counter() - start, str(digest)


def _blake2b(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _head(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.sha256(handle.read(1 << 20)).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--row-bytes", type=int, default=100)
    parser.add_argument("--rows-per-s", type=float, default=460.0)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        path = Path(tmp) / "input.csv"
        rows = _write(path, args.mb, args.row_bytes)
        size_mb = path.stat().st_size / (1 << 20)
        sha_1, _ = _timed(lambda: hash_file(path))
        sha_2, _ = _timed(lambda: hash_file(path))
        blake_s, _ = _timed(lambda: _blake2b(path))
        head_s, _ = _timed(lambda: _head(path))
        model_s = rows / args.rows_per_s
        best = min(sha_1, sha_2)
        print(json.dumps({
            "file_mb": round(size_mb, 1), "rows": rows, "cpus": os.cpu_count(),
            "sha256_s": [round(sha_1, 2), round(sha_2, 2)], "sha256_mb_per_s": round(size_mb / best),
            "blake2b_s": round(blake_s, 2), "blake2b_mb_per_s": round(size_mb / blake_s),
            "first_mb_sha256_s": round(head_s, 4),
            "model_s_at_rows_per_s": round(model_s), "rows_per_s_assumed": args.rows_per_s,
            "fingerprint_share_of_model_time": f"{100 * best / model_s:.3f}%",
        }, indent=1))


if __name__ == "__main__":
    main()
