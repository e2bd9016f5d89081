"""The real ``affectlens serve`` in a subprocess on a free loopback port, with its log captured to a file.

Tests of what lives in the served process (uvicorn's WebSocket support, its logs, Host
headers as they arrive on a socket, readiness and jobs through the installed surface) use
this instead of the in-process ``TestClient``.  The subprocess runs this interpreter and
this source tree (``src`` first on ``PYTHONPATH``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: a text model that loads in milliseconds: these tests are about the server, not the model
FAST_TEXT_MODEL = "dummy.keywords.v1"
SRC = str(Path(__file__).resolve().parents[2] / "src")


@dataclass(frozen=True)
class Served:
    port: int
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raw_http(port: int, request: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
    """Send bytes as they are (any Host, any Origin) and return (status, whole response)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    return int(response.split(b" ", 2)[1]), response


@contextmanager
def serving(tmp_path: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60.0,
            model: str | None = FAST_TEXT_MODEL, wait_for: str = "/readyz") -> Iterator[Served]:
    """``affectlens serve --host 127.0.0.1 --port <free> [--model MODEL] ARGS``, once ``wait_for`` answers 200.

    ``model=None``: the service's default text model.  ``wait_for="/healthz"``: the process is
    up, without waiting for the default model to load.
    """
    port = free_port()
    log_path = tmp_path / f"serve-{port}.log"
    command = [sys.executable, "-m", "affectlens.testing.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
               *(("--model", model) if model is not None else ()), *args]
    environment = {**os.environ, "AFFECTLENS_TEMP_DIR": str(tmp_path), **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, environment.get("PYTHONPATH", "")) if p)
    with log_path.open("wb") as log_file:  # a file, not a pipe nobody reads (a full pipe blocks the server)
        process = subprocess.Popen(command, env=environment, stdout=log_file, stderr=subprocess.STDOUT)
    served = Served(port, log_path)
    try:
        _wait_ready(served, process, timeout, wait_for)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_ready(served: Served, process: subprocess.Popen[bytes], timeout: float, path: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"affectlens serve exited ({process.returncode}):\n{served.log()[-3000:]}")
        try:
            with urllib.request.urlopen(served.base + path, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"affectlens serve did not answer {path} in {timeout:g} s:\n{served.log()[-3000:]}")
