"""A generated corpus of bad inputs: what every surface must answer with a result, a warning or an error.

Used by ``benchmarks/fuzz_inputs.py`` (the whole corpus through the CLI, batch and the
service) and by ``tests/test_bad_inputs.py`` (a small subset, fast).  Nothing is downloaded:
every file is made here from a short synthetic original (a tone, a gradient, a few frames,
a few table rows) and then damaged:

* ``zero``: a zero-byte file with the format's suffix;
* ``head``: the first 60 bytes of a valid file (a header and nothing else);
* ``half``: the first half of a valid file (truncated in transfer);
* ``corrupt``: the valid file with its middle overwritten by random bytes;
* ``noise``: random bytes with the format's suffix;
* ``wrong-ext``: a valid file of another format under this suffix.

Tables, subtitles and dialogue JSON get content-level damage too (invalid UTF-8 and lone
surrogates in cells, malformed rows, invalid JSON lines), and ``BAD_TEXTS`` lists literal
texts (invalid UTF-8, lone surrogates, NULs, zero-width characters).  Optional encoders
(an MP3 or Opus writer, a video encoder) that are missing only shrink the corpus; the
cases made are listed in the returned ``BadInput`` records.
"""

from __future__ import annotations

import io
import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: literal texts for ``affectlens analyze TEXT`` / the service: (name, argv bytes)
BAD_TEXTS: tuple[tuple[str, bytes], ...] = (
    ("invalid-utf8", b"I am \xff happy"),
    ("latin1", b"caf\xe9 cr\xe8me, tr\xe8s content"),
    ("lone-surrogate-cesu", b"I am \xed\xa0\x80 happy"),
    ("nul-only", b"\x00\x00"),
    ("zero-width-only", "\u200b\u200c\u200d\ufeff".encode()),
    ("whitespace-only", b" \t\n "),
    ("control-chars", b"\x01\x02\x03 so happy \x7f"),
)

MEDIA_SUFFIXES = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".png", ".jpg", ".mp4")
TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet")
DOCUMENT_SUFFIXES = (".txt", ".md")
DIALOGUE_SUFFIXES = (".srt", ".vtt", ".json")
DAMAGES = ("zero", "head", "half", "corrupt", "noise", "wrong-ext")


@dataclass(frozen=True)
class BadInput:
    path: Path
    suffix: str  # the format the name claims
    damage: str  # one of ``DAMAGES`` or a content-level damage ("bad-rows", ...)
    group: str  # "media" | "tables" | "documents" | "dialogues": the folder it is in


# -- valid originals ---------------------------------------------------------------------------


def _tone(seconds: float = 1.0, rate: int = 16_000) -> object:
    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def _soundfile_bytes(fmt: str, subtype: str | None, rate: int = 16_000) -> bytes:
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, _tone(rate=rate), rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def _image_bytes(fmt: str) -> bytes:
    from PIL import Image

    pixels = bytes((x * 4 + y) % 256 for y in range(48) for x in range(64) for _ in range(3))
    buffer = io.BytesIO()
    Image.frombytes("RGB", (64, 48), pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def _video_bytes() -> bytes:
    import av
    import numpy as np

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def _parquet_bytes() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    table = pa.table({"text": ["I am so happy", None, "", "\u200b", "this is awful"]})
    pq.write_table(table, buffer, row_group_size=2)
    return buffer.getvalue()


_CSV = b"text\nI am so happy\n\nthis is awful\n"
_SRT = b"1\n00:00:01,000 --> 00:00:02,000\nANNA: so happy\n\n2\n00:00:02,500 --> 00:00:04,000\nBEN: so sad\n"
_VTT = b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Anna>so happy\n\n00:00:02.500 --> 00:00:04.000\n<v Ben>so sad\n"
_DIALOGUE = json.dumps({"dialogue_id": "d1", "turns": [{"speaker": "A", "text": "so happy"},
                                                       {"speaker": "B", "text": "so sad"}]}).encode()

ORIGINALS: dict[str, Callable[[], bytes]] = {
    ".wav": lambda: _soundfile_bytes("WAV", "PCM_16"),
    ".flac": lambda: _soundfile_bytes("FLAC", None),
    ".ogg": lambda: _soundfile_bytes("OGG", "VORBIS"),
    ".opus": lambda: _soundfile_bytes("OGG", "OPUS", rate=48_000),
    ".mp3": lambda: _soundfile_bytes("MP3", "MPEG_LAYER_III", rate=44_100),
    ".png": lambda: _image_bytes("PNG"),
    ".jpg": lambda: _image_bytes("JPEG"),
    ".mp4": _video_bytes,
    ".csv": lambda: _CSV,
    ".tsv": lambda: _CSV,
    ".jsonl": lambda: b'{"text": "I am so happy"}\n{"text": "this is awful"}\n',
    ".parquet": _parquet_bytes,
    ".txt": lambda: b"I am so happy today, thank you!",
    ".md": lambda: b"# Notes\n\nThis is awful and I am angry.",
    ".srt": lambda: _SRT,
    ".vtt": lambda: _VTT,
    ".json": lambda: _DIALOGUE,
}

#: content-level damage of the text formats: (name, suffix, bytes)
CONTENT_DAMAGES: tuple[tuple[str, str, bytes], ...] = (
    ("invalid-utf8-row", ".csv", b"id,text\n1,I am so happy\n2,bad \xff\xfe bytes\n3,\xe2\x80\x8b\n4,\x00\n"),
    ("malformed-rows", ".csv", b'text,other\n"unclosed quote,1\nok,2,3,4\nfine,5\n'),
    ("bad-json-lines", ".jsonl", b'{"text": "a \\udcff b"}\n{not json}\n[1, 2]\n{"text": 5}\n{"text": "\\u0000"}\n'),
    ("latin1-text", ".txt", b"caf\xe9 cr\xe8me, tr\xe8s content"),
    ("zero-width-text", ".txt", "\u200b\u200b\ufeff".encode()),
    ("nul-text", ".md", b"\x00\x00\x00"),
    ("bad-timestamps", ".srt", b"1\n99:99:99,999 --> 00:00:01,000\nA: hi\n\nnot a cue\n"),
    ("invalid-json", ".json", b'{"dialogue_id": "d1", "turns": [{"speaker": "A", "text": '),
    ("turns-not-objects", ".json", b'{"dialogue_id": "d1", "turns": ["hi", 3]}'),
)


def _group(suffix: str) -> str:
    if suffix in MEDIA_SUFFIXES:
        return "media"
    if suffix in TABLE_SUFFIXES:
        return "tables"
    return "dialogues" if suffix in DIALOGUE_SUFFIXES else "documents"


def _damaged(kind: str, original: bytes, other: bytes, rng: random.Random) -> bytes:
    if kind == "zero":
        return b""
    if kind == "head":
        return original[:60]
    if kind == "half":
        return original[: len(original) // 2]
    if kind == "corrupt":
        middle, span = len(original) // 3, max(16, len(original) // 3)
        return original[:middle] + rng.randbytes(span) + original[middle + span:]
    if kind == "noise":
        return rng.randbytes(4096)
    return other  # "wrong-ext"


def make_bad_inputs(folder: str | Path, *, suffixes: tuple[str, ...] | None = None,
                    damages: tuple[str, ...] = DAMAGES, content: bool = True, seed: int = 0) -> list[BadInput]:
    """Write the corpus below ``folder`` (one sub-folder per group) and return what was made.

    ``suffixes`` limits the formats (default: all of ``ORIGINALS``); a format whose original
    cannot be made here (no encoder) is left out.
    """
    folder = Path(folder)
    rng = random.Random(seed)
    made: list[BadInput] = []
    originals: dict[str, bytes] = {}
    for suffix in suffixes or tuple(ORIGINALS):
        try:
            originals[suffix] = ORIGINALS[suffix]()
        except Exception:  # an optional encoder is missing: fewer cases, not a failure
            continue
    names = sorted(originals)
    for suffix, original in originals.items():
        group = folder / _group(suffix)
        group.mkdir(parents=True, exist_ok=True)
        other = originals[names[(names.index(suffix) + 1) % len(names)]]
        for damage in damages:
            path = group / f"{damage}{suffix}"
            path.write_bytes(_damaged(damage, original, other, rng))
            made.append(BadInput(path, suffix, damage, _group(suffix)))
    if content:
        for name, suffix, data in CONTENT_DAMAGES:
            if suffixes and suffix not in suffixes:
                continue
            group = folder / _group(suffix)
            group.mkdir(parents=True, exist_ok=True)
            path = group / f"{name}{suffix}"
            path.write_bytes(data)
            made.append(BadInput(path, suffix, name, _group(suffix)))
    return made


def add_bad_links(folder: str | Path) -> list[str]:
    """A broken link and a folder loop in ``folder`` (walks must name both, never hang); their names."""
    folder = Path(folder)
    broken, loop = folder / "broken-link.txt", folder / "loop"
    if not os.path.lexists(broken):
        broken.symlink_to(folder / "does-not-exist.txt")
    if not os.path.lexists(loop):
        loop.symlink_to(folder, target_is_directory=True)
    return [broken.name, loop.name]


# -- what counts as a good answer -------------------------------------------------------------------

#: exception class names that must never reach a user as the whole explanation
INTERNAL_ERROR_NAMES = ("TypeError", "AttributeError", "KeyError", "IndexError", "UnboundLocalError",
                        "ZeroDivisionError", "AssertionError", "NameError", "RecursionError")


@dataclass(frozen=True)
class Verdict:
    """How one surface answered one bad input: ``answer`` is "result", "warning" or "error"; ``problem``
    is set when the answer breaks the rules (a traceback, an internal error, an input not accounted for)."""

    answer: str
    problem: str | None = None


def leaked_internal_error(text: str) -> str | None:
    """The name of an internal exception class quoted in a user-facing message, if any."""
    return next((name for name in INTERNAL_ERROR_NAMES if f"{name}:" in text), None)


def _judge_results(results: list[Any], none_problem: str) -> Verdict:
    """A list of results: each with segments, or each at least with a warning; ``none_problem`` if empty."""
    if not results:
        return Verdict("result", none_problem)
    if all(r.get("segments") for r in results):
        return Verdict("result")
    if all(r.get("segments") or r.get("warnings") for r in results):
        return Verdict("warning")
    return Verdict("warning", "an empty result without a warning")


def judge_cli(returncode: int, stdout: str, stderr: str) -> Verdict:
    """``affectlens analyze INPUT -f jsonl``: results (each one a line) or one ``error:`` line; never a traceback."""
    if "Traceback (most recent call last)" in stderr:
        return Verdict("error", "traceback")
    if (name := leaked_internal_error(stdout + stderr)) is not None:
        return Verdict("error", f"internal error leaked: {name}")
    if returncode == 0:
        try:
            records = [json.loads(line) for line in stdout.splitlines() if line.strip()]
        except ValueError:
            return Verdict("result", "output is not JSON Lines")
        return _judge_results(records, "exit 0 without any result")
    if returncode in (1, 2, 3) and "error:" in stderr:
        if "AFFECTLENS_DEBUG" in stderr:
            return Verdict("error", "unexpected exception (exit 1, 'set AFFECTLENS_DEBUG=1')")
        return Verdict("error")
    return Verdict("error", f"exit {returncode} without an error line")


def judge_http(status: int, body: bytes) -> Verdict:
    """A service answer: a JSON result (2xx) or a JSON error with a message (4xx); never a 5xx."""
    if status >= 500:
        return Verdict("error", f"HTTP {status}")
    try:
        data = json.loads(body)
    except ValueError:
        return Verdict("error", f"HTTP {status} with a body that is not JSON")
    text = body.decode("utf-8", errors="replace")
    if (name := leaked_internal_error(text)) is not None:
        return Verdict("error", f"internal error leaked: {name}")
    if status >= 400:
        return Verdict("error") if isinstance(data, dict) and data.get("error") else Verdict("error", "no message")
    if isinstance(data, dict) and isinstance(data.get("results"), list):  # a list of results (texts, a job)
        return _judge_results(data["results"], "no result for the input")
    if isinstance(data, dict) and data.get("status") in ("failed", "cancelled"):
        return Verdict("error") if data.get("error") else Verdict("error", "a failed job without a reason")
    if isinstance(data, dict) and data.get("segments"):
        return Verdict("result")
    if isinstance(data, dict) and data.get("warnings"):
        return Verdict("warning")
    return Verdict("result", "a 2xx answer without a result or a warning")


def final_answer(client: Any, response: Any, timeout: float = 120.0) -> Any:
    """For a ``202`` job submission, the job's end: its results (200) or its status with the error;
    any other response as it is.  ``client`` is a FastAPI ``TestClient`` (or an httpx client)."""
    if response.status_code != 202:
        return response
    job_id = response.json()["id"]
    deadline = time.monotonic() + timeout
    status = client.get(f"/v1/jobs/{job_id}")
    while time.monotonic() < deadline and status.status_code == 200 and \
            status.json().get("status") in ("queued", "running"):
        time.sleep(0.1)
        status = client.get(f"/v1/jobs/{job_id}")
    if status.status_code != 200 or status.json().get("status") != "done":
        return status  # a failed job answers with its status and error (judged as such)
    return client.get(f"/v1/jobs/{job_id}/result")
