"""Where the user's LLM endpoint is, and how we talk to it.

Nothing here talks to the network.  A configuration is resolved from, in order of
precedence: constructor arguments, environment variables (``AFFECTLENS_LLM_URL``,
``AFFECTLENS_LLM_MODEL``, ``AFFECTLENS_LLM_API_KEY``, ``AFFECTLENS_LLM_CACHE``), then a
config file (``AFFECTLENS_LLM_CONFIG``, else ``~/.config/affectlens/llm.toml``; TOML on
Python 3.11+, or JSON).  Without a URL and a model name no endpoint is ever called:
``resolve_config`` raises ``LLMNotConfigured`` saying what to set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_URL = "AFFECTLENS_LLM_URL"
ENV_MODEL = "AFFECTLENS_LLM_MODEL"
ENV_API_KEY = "AFFECTLENS_LLM_API_KEY"
ENV_CONFIG = "AFFECTLENS_LLM_CONFIG"
ENV_CACHE = "AFFECTLENS_LLM_CACHE"
DEFAULT_CONFIG_PATH = Path("~/.config/affectlens/llm.toml")
DEFAULT_CACHE_DIR = Path("~/.cache/affectlens/llm")
RESPONSE_FORMATS = ("auto", "json_schema", "json_object", "none")


class LLMNotConfigured(RuntimeError):
    """No endpoint URL or model name: the LLM recognizer will not call anything."""


@dataclass(frozen=True)
class LLMConfig:
    """One OpenAI-compatible chat endpoint and the request policy.

    ``url`` is the API base (``http://localhost:11434/v1``); ``/chat/completions`` is
    appended unless the URL already ends with it.  ``max_retries`` bounds retries of
    failed HTTP requests (timeouts, connection errors, 429, 5xx); ``parse_retries``
    bounds re-asks after a reply that is not the JSON we asked for.  ``response_format``
    ``auto`` asks for a strict JSON schema and falls back to ``json_object``, then to
    none, when the server rejects it.
    """

    url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    max_retries: int = 3
    parse_retries: int = 2
    backoff: float = 1.0
    max_backoff: float = 30.0
    concurrency: int = 4
    cache: bool = True
    cache_dir: Path = DEFAULT_CACHE_DIR
    temperature: float = 0.0
    max_tokens: int = 800
    seed: int | None = None
    response_format: str = "auto"

    def __post_init__(self) -> None:
        if self.response_format not in RESPONSE_FORMATS:
            raise ValueError(f"response_format must be one of {', '.join(RESPONSE_FORMATS)}, "
                             f"not {self.response_format!r}")
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.max_retries < 0 or self.parse_retries < 0:
            raise ValueError("retries cannot be negative")

    @property
    def endpoint(self) -> str:
        base = self.url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"

    def with_overrides(self, **overrides: Any) -> LLMConfig:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


_FIELD_TYPES: dict[str, type] = {
    "timeout": float, "max_retries": int, "parse_retries": int, "backoff": float, "max_backoff": float,
    "concurrency": int, "temperature": float, "max_tokens": int, "seed": int,
}


def read_config_file(path: str | Path | None = None) -> dict[str, Any]:
    """The settings in the config file (``{}`` when the default file does not exist)."""
    explicit = path is not None or bool(os.environ.get(ENV_CONFIG))
    chosen = Path(path or os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG_PATH).expanduser()
    if not chosen.is_file():
        if explicit:
            raise LLMNotConfigured(f"LLM config file not found: {chosen}")
        return {}
    raw = chosen.read_text(encoding="utf-8")
    try:
        if chosen.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            try:
                import tomllib
            except ModuleNotFoundError as err:  # Python 3.10
                raise LLMNotConfigured(f"{chosen}: TOML config needs Python 3.11+; use a .json file") from err
            data = tomllib.loads(raw)
    except ValueError as err:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise LLMNotConfigured(f"cannot read LLM config file {chosen}: {err}") from None
    section = data.get("llm", data) if isinstance(data, Mapping) else {}
    if not isinstance(section, Mapping):
        raise LLMNotConfigured(f"{chosen}: expected a table of settings")
    known = {f.name for f in fields(LLMConfig)}
    unknown = sorted(set(section) - known)
    if unknown:
        raise LLMNotConfigured(f"{chosen}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return dict(section)


def _from_env() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, env in (("url", ENV_URL), ("model", ENV_MODEL), ("api_key", ENV_API_KEY), ("cache_dir", ENV_CACHE)):
        value = os.environ.get(env)
        if value:
            out[key] = value
    return out


def resolve_config(config_file: str | Path | None = None, **overrides: Any) -> LLMConfig:
    """Merge file < environment < ``overrides`` (``None`` values are ignored) into a config."""
    settings: dict[str, Any] = read_config_file(config_file)
    settings.update(_from_env())
    settings.update({k: v for k, v in overrides.items() if v is not None})
    missing = [name for name, env in (("url", ENV_URL), ("model", ENV_MODEL)) if not settings.get(name)]
    if missing:
        hint = " and ".join(f"{name} (${env})" for name, env in (("url", ENV_URL), ("model", ENV_MODEL))
                            if name in missing)
        raise LLMNotConfigured(
            f"no LLM endpoint configured: set {hint}, e.g. {ENV_URL}=http://localhost:11434/v1 "
            f"{ENV_MODEL}=llama3.1:8b (or pass url=/model=, or write {DEFAULT_CONFIG_PATH}); "
            "nothing was sent anywhere")
    for name, kind in _FIELD_TYPES.items():
        if settings.get(name) is not None:
            settings[name] = kind(settings[name])
    settings["cache_dir"] = Path(settings.get("cache_dir") or DEFAULT_CACHE_DIR).expanduser()
    settings["cache"] = bool(settings.get("cache", True))
    return LLMConfig(**settings)


def model_from_environment(config_file: str | Path | None = None) -> str | None:
    """The configured model name, if any (used to name a recognizer before it loads)."""
    if os.environ.get(ENV_MODEL):
        return os.environ[ENV_MODEL]
    try:
        model = read_config_file(config_file).get("model")
    except (LLMNotConfigured, ValueError, OSError):
        return None
    return str(model) if model else None
