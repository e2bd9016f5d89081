"""Service settings: one frozen object, built from defaults, ``AFFECTLENS_*`` variables or the CLI.

Nothing here is read at import time: ``ServiceSettings.from_env()`` reads the environment
when the service starts.  Limits are plain numbers so that ``create_app`` can be given a
tight configuration in tests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

#: environment variable -> setting; values are parsed with the setting's type
ENV_PREFIX = "AFFECTLENS_"


@dataclass(frozen=True)
class ServiceSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    #: bearer token required on every endpoint except /healthz, /readyz, the page and its assets
    api_key: str | None = None
    #: default text model (None: the registry's default, ``text.minilm-goemotions.v1``)
    model: str | None = None
    #: Host names answered (comma-separated, ``*``: any; None: the bound host's names, see ``security``)
    allowed_hosts: str | None = None
    #: browser origins allowed besides the service's own on POST/DELETE and the stream (``*``: any)
    allowed_origins: str | None = None

    # -- request limits ---------------------------------------------------------------------
    max_body_bytes: int = 1 << 20  # JSON bodies (413 beyond)
    max_upload_bytes: int = 25 << 20  # multipart uploads: media and tables (413 beyond)
    max_text_chars: int = 20_000  # one text (422 beyond)
    max_batch_texts: int = 256  # texts per batch request, turns per dialogue (422 beyond)
    request_timeout_s: float = 30.0  # synchronous requests (504 beyond)
    max_connections: int = 256  # open connections + WebSockets (uvicorn answers 503 beyond)

    # -- text inference -----------------------------------------------------------------------
    #: concurrent single-text requests that arrive within this window go to the model as one batch
    batch_wait_ms: float = 2.0
    max_model_batch: int = 64
    #: text models a request may name in ``model`` and that are kept loaded at most
    max_loaded_models: int = 3
    #: threads per model runtime pool ("auto": the CPUs available, ``runtime_threads``)
    threads: str = "auto"
    #: auto (= off): text, media and job pools may run at once and share the cores, so an idle
    #: pool must not spin-wait; "on" only for a machine that runs nothing else
    thread_spinning: str = "auto"

    # -- media (docs/service.md, "Media limits") ---------------------------------------------------
    #: longest audio / video analysed synchronously, from the container header (413 beyond: use a job)
    max_sync_audio_seconds: float = 120.0
    max_sync_video_seconds: float = 30.0
    #: an audio upload sent without ``words`` gets its words (Whisper) where multilingual base is installed
    words_by_default: bool = True
    #: images and video frames: width x height read from the header (413 beyond, nothing decoded)
    max_image_pixels: int = 50_000_000
    #: threads for synchronous audio/image/video requests (jobs and model loading have their own)
    media_workers: int = 1

    # -- jobs -----------------------------------------------------------------------------------
    max_jobs_queued: int = 8  # queued + running jobs (429 beyond)
    job_workers: int = 1
    job_batch_size: int = 16  # small batches so that a job yields to interactive requests often
    job_yield_ms: float = 200.0  # longest a job batch waits for interactive requests to finish
    job_ttl_s: float = 3600.0  # finished jobs (and their results) are forgotten after this
    max_jobs_kept: int = 100

    # -- audio stream -----------------------------------------------------------------------------
    stream_max_seconds: float = 3600.0
    stream_max_message_bytes: int = 1 << 20

    #: folder for upload temp files (None: the system temp folder)
    temp_dir: str | None = None

    def with_overrides(self, **overrides: Any) -> ServiceSettings:
        """A copy with the given settings changed; ``None`` values are ignored."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServiceSettings:
        """Defaults, then ``AFFECTLENS_<SETTING>`` variables, then ``overrides`` (non-None)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(raw, str(f.type), f.name)
        return cls(**values).with_overrides(**overrides)

    def temp_folder(self) -> Path | None:
        return Path(self.temp_dir) if self.temp_dir else None


def _parse(raw: str, type_name: str, name: str) -> Any:
    if type_name.startswith("bool"):
        word = raw.strip().lower()
        if word in ("1", "true", "yes", "on"):
            return True
        if word in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not true or false")
    try:
        if type_name.startswith("int"):
            return int(raw)
        if type_name.startswith("float"):
            return float(raw)
    except ValueError:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a number") from None
    return raw
