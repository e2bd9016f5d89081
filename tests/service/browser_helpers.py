"""Plumbing for the web-page tests: Debian's ``chromium`` driven by playwright, ``create_app`` served
by uvicorn in a thread on a free loopback port, and screenshots kept on request.

Importers skip with a reason when playwright or chromium is missing (``skip_without_browser``);
CI installs chromium with ``scripts/install_system_deps.sh``.  Set ``AFFECTLENS_SCREENSHOTS=DIR``
to keep the screenshots.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from affectlens.protocols import Recognizer
from affectlens.service.app import create_app
from affectlens.service.settings import ServiceSettings

CHROMIUM = os.environ.get("AFFECTLENS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def skip_without_browser() -> Any:
    """playwright's sync API, or a module-level skip naming what is missing."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the e2e extra)")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no chromium at {CHROMIUM}: run scripts/install_system_deps.sh (apt-get install chromium)",
                    allow_module_level=True)
    return sync_api


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(recognizers: list[Recognizer], temp_dir: Path) -> Iterator[str]:
    """``create_app(recognizers=...)`` under uvicorn in a thread; yields its base URL."""
    import uvicorn

    # the stand-in speech recognizers read a voice, not Whisper's words
    app = create_app(ServiceSettings(temp_dir=str(temp_dir), words_by_default=False), recognizers=recognizers)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def launched(sync_api: Any) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def keep_screenshot(path: Path) -> None:
    folder = os.environ.get("AFFECTLENS_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(folder) / path.name)
