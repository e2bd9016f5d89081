"""Run the bad-input corpus (``affectlens.testing.bad_inputs``) through the CLI, batch and the service.

Usage: python benchmarks/fuzz_inputs.py [--workdir DIR] [--quick] [--skip-cli] [--skip-batch] [--skip-service]

1. Generates the corpus: zero-byte, header-only, truncated, corrupt, noise and wrong-extension
   files of every format (wav flac ogg opus mp3 png jpg mp4 csv tsv jsonl parquet txt md srt
   vtt dialogue-json), content-level damage (invalid UTF-8 / lone surrogates in cells,
   malformed rows, bad JSON lines, NUL and zero-width-only text), a broken link and a link
   loop, and ``BAD_TEXTS`` (literal texts).
2. CLI: ``affectlens analyze INPUT -f jsonl`` once per file (``--dialogue`` for .json) and
   once per literal text (passed as raw argv bytes), each in its own process.
3. Batch: ``affectlens batch FOLDER --out OUT`` on each group folder; every file (or table)
   must appear in the output or in ``errors.jsonl``.
4. Service: the app in-process (FastAPI TestClient, the shipped models): media files to
   ``/v1/analyze/{audio,image,video}``, tables and documents to ``/v1/jobs`` (polled to the
   end), dialogue JSON to ``/v1/analyze/dialogue``, the literal texts to ``/v1/analyze/text``
   and ``/v1/analyze/texts`` (raw bytes and JSON escapes).

Checks: 0 tracebacks, 0 leaked internal errors (``TypeError: ...``), 0 HTTP 5xx, every input
accounted for (a result, a warning or an error).  Prints a table of answers per surface, every
problem, and the peak RSS of the CLI/batch children and of the service process.  Exits 1 when a
check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from affectlens.testing.bad_inputs import (
    BAD_TEXTS,
    BadInput,
    Verdict,
    add_bad_links,
    final_answer,
    judge_cli,
    judge_http,
    leaked_internal_error,
    make_bad_inputs,
)

QUICK_SUFFIXES = (".wav", ".mp3", ".png", ".mp4", ".csv", ".jsonl", ".parquet", ".txt", ".srt", ".json")


def _cli(args: list[str | bytes], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    command: list[str | bytes] = [sys.executable, "-m", "affectlens.cli", *args]
    done = subprocess.run(command, capture_output=True, timeout=timeout)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8", "replace"),
                                       done.stderr.decode("utf-8", "replace"))


def run_cli(bad: list[BadInput], record: Any) -> None:
    for item in bad:
        extra = ["--dialogue"] if item.suffix == ".json" else []
        done = _cli(["analyze", str(item.path), "-f", "jsonl", *extra])
        record("cli", item.path.relative_to(item.path.parents[1]).as_posix(), judge_cli(done.returncode, done.stdout,
                                                                                          done.stderr), done.stderr)
    for name, raw in BAD_TEXTS:
        if b"\x00" not in raw:  # no program can receive a NUL in an argument; standard input can
            done = _cli(["analyze", "--text", raw, "-f", "jsonl"])
            record("cli", f"text:{name}", judge_cli(done.returncode, done.stdout, done.stderr), done.stderr)
        done = subprocess.run([sys.executable, "-m", "affectlens.cli", "analyze", "-", "-f", "jsonl"], input=raw,
                              capture_output=True, timeout=300)
        record("cli", f"stdin:{name}", judge_cli(done.returncode, done.stdout.decode("utf-8", "replace"),
                                                 done.stderr.decode("utf-8", "replace")), "")


def run_batch(root: Path, bad: list[BadInput], record: Any) -> None:
    import pyarrow.parquet as pq

    for group in sorted({b.group for b in bad}):
        folder = root / group
        out = root.parent / f"batch-{group}"
        done = _cli(["batch", str(folder), "--out", str(out), "--restart"])
        expected = {b.path.relative_to(folder).as_posix() for b in bad if b.group == group}
        seen: set[str] = set()
        if (out / "shards").is_dir():
            table = pq.read_table(out / "shards")
            column = "source" if group == "tables" and "source" in table.column_names else "record_id"
            seen |= {str(v) for v in table.column(column).to_pylist() if v is not None}
            if group == "tables":
                seen |= {str(v) for v in table.column("record_id").to_pylist() if v is not None}
        if (out / "errors.jsonl").is_file():
            for line in (out / "errors.jsonl").read_text().splitlines():
                entry = json.loads(line)
                seen |= {str(entry.get("file")), str(entry.get("id"))}
        missing = sorted(e for e in expected if e not in seen and Path(e).name not in seen)
        internal = leaked_internal_error(done.stderr)
        if "Traceback (most recent call last)" in done.stderr:
            verdict = Verdict("error", "traceback")
        elif internal is not None:
            verdict = Verdict("error", f"internal error leaked: {internal}")
        elif done.returncode not in (0, 3):
            verdict = Verdict("error", f"exit {done.returncode}: {done.stderr.strip()[-200:]}")
        elif missing:
            verdict = Verdict("error", f"not accounted for: {', '.join(missing[:8])}")
        else:  # exit 3: not one input could be analysed (every one is an error row)
            verdict = Verdict("warning" if done.returncode == 0 else "error")
        record("batch", f"{group}/ ({len(expected)} inputs)", verdict, done.stderr)


def run_service(root: Path, bad: list[BadInput], record: Any) -> None:
    from fastapi.testclient import TestClient

    from affectlens.service.app import create_app
    from affectlens.service.settings import ServiceSettings

    kinds = {".wav": "audio", ".flac": "audio", ".ogg": "audio", ".opus": "audio", ".mp3": "audio",
             ".png": "image", ".jpg": "image", ".mp4": "video"}
    settings = ServiceSettings(temp_dir=str(root.parent / "service-tmp"), request_timeout_s=120.0,
                               allowed_hosts="testserver")  # TestClient sends Host: testserver
    Path(settings.temp_dir or ".").mkdir(exist_ok=True)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        for item in bad:
            name = item.path.relative_to(item.path.parents[1]).as_posix()
            data = item.path.read_bytes()
            if item.suffix in kinds:
                response = client.post(f"/v1/analyze/{kinds[item.suffix]}", files={"file": (item.path.name, data)})
            elif item.suffix == ".json":
                response = client.post("/v1/analyze/dialogue", content=data,
                                       headers={"content-type": "application/json"})
            else:
                response = client.post("/v1/jobs", files={"file": (item.path.name, data)})
                response = final_answer(client, response)
            record("service", name, judge_http(response.status_code, response.content), response.text[:300])
        for name, raw in BAD_TEXTS:
            body = b'{"text": "' + raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"}'
            response = client.post("/v1/analyze/text", content=body, headers={"content-type": "application/json"})
            record("service", f"text-raw:{name}", judge_http(response.status_code, response.content), response.text)
            escaped = json.dumps({"text": raw.decode("utf-8", "surrogateescape")}).encode()
            response = client.post("/v1/analyze/text", content=escaped, headers={"content-type": "application/json"})
            record("service", f"text-escaped:{name}", judge_http(response.status_code, response.content),
                   response.text)
        texts = json.dumps({"texts": [raw.decode("utf-8", "surrogateescape") for _, raw in BAD_TEXTS]}).encode()
        response = client.post("/v1/analyze/texts", content=texts, headers={"content-type": "application/json"})
        verdict = judge_http(response.status_code, response.content)
        if response.status_code == 200 and len(response.json()["results"]) != len(BAD_TEXTS):
            verdict = Verdict("error", "not one result per text")
        record("service", "texts:all-bad-texts", verdict, response.text[:300])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--quick", action="store_true", help="Fewer formats (one per kind).")
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--skip-service", action="store_true")
    args = parser.parse_args()
    verdicts: list[tuple[str, str, Verdict, str]] = []

    def record(surface: str, case: str, verdict: Verdict, detail: str) -> None:
        verdicts.append((surface, case, verdict, detail))
        mark = "FAIL" if verdict.problem else "ok"
        print(f"{mark:4} {surface:7} {case:40} {verdict.answer:7} {verdict.problem or ''}", flush=True)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        root = Path(tmp) / "corpus"
        bad = make_bad_inputs(root, suffixes=QUICK_SUFFIXES if args.quick else None)
        links = add_bad_links(root / "documents")
        print(f"corpus: {len(bad)} files, {len(BAD_TEXTS)} literal texts, links {links} in documents/", flush=True)
        if not args.skip_cli:
            run_cli(bad, record)
        if not args.skip_batch:
            run_batch(root, bad, record)
        if not args.skip_service:
            run_service(root, bad, record)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    problems = [(s, c, v) for s, c, v, _ in verdicts if v.problem]
    by_surface: dict[str, Counter[str]] = {}
    for surface, _, verdict, _ in verdicts:
        by_surface.setdefault(surface, Counter())[verdict.answer] += 1
    summary = {
        "cases": len(verdicts), "problems": len(problems),
        "answers": {s: dict(c) for s, c in by_surface.items()},
        "tracebacks": sum(1 for _, _, v in problems if v.problem == "traceback"),
        "http_5xx": sum(1 for _, _, v in problems if (v.problem or "").startswith("HTTP 5")),
        "peak_rss_mb_cli_batch_child": round(children), "peak_rss_mb_service_process": round(own),
        "seconds": round(time.perf_counter() - started), "cpus": os.cpu_count(),
    }
    print(json.dumps(summary, indent=1))
    for surface, case, verdict in problems:
        print(f"PROBLEM {surface} {case}: {verdict.problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
