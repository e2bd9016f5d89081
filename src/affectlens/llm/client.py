"""A small client for OpenAI-compatible ``/chat/completions`` endpoints (httpx).

Retries are bounded: HTTP failures (timeouts, connection errors, 429, 5xx) up to
``config.max_retries`` times with exponential backoff (``Retry-After`` honoured, capped at
``config.max_backoff``); replies that do not parse up to ``config.parse_retries`` times,
each re-ask telling the model what was wrong.  A strict JSON schema is requested through
``response_format``; a server that rejects it (HTTP 400/422 naming the field) is asked
again with ``json_object`` and then with no format, and the client remembers what works.
Only replies that parsed are cached.  ``httpx`` is imported when the first client is built.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from affectlens.llm.cache import ResponseCache, cache_key
from affectlens.llm.config import LLMConfig
from affectlens.llm.parsing import ReplyParseError

T = TypeVar("T")
Message = Mapping[str, str]
_FORMAT_ORDER = ("json_schema", "json_object", "none")
_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class LLMError(RuntimeError):
    """The endpoint could not give a usable answer (after the bounded retries)."""


class LLMHTTPError(LLMError):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class LLMReplyError(LLMError):
    """Every reply, including the re-asks, failed to parse."""


@dataclass(frozen=True)
class Reply:
    content: str
    cached: bool
    http_attempts: int
    parse_attempts: int
    response_format: str


def _correction(error: Exception) -> str:
    return (f"Your previous reply could not be used ({error}). Reply again with exactly one JSON object "
            "that follows the requested format, and nothing else: no code fences, no commentary.")


class ChatClient:
    """Thread-safe: one client serves the recognizer's worker threads."""

    def __init__(self, config: LLMConfig, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self._sleep = sleep
        self._http: Any = None
        self._lock = threading.Lock()
        self._format = "json_schema" if config.response_format == "auto" else config.response_format
        self.cache = ResponseCache(config.cache_dir) if config.cache else None

    # -- public ----------------------------------------------------------------------------
    def complete(self, messages: Sequence[Message], parse: Callable[[str], T], *,
                 schema: Mapping[str, Any] | None = None, schema_name: str = "reply") -> tuple[T, Reply]:
        """Ask, parse with ``parse`` (raising ``ReplyParseError`` on bad output), cache what parsed."""
        key = cache_key(self.request_identity(messages, schema))
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                try:
                    return parse(hit), Reply(hit, True, 0, 0, "cache")
                except ReplyParseError:
                    pass  # a stale entry written by an older parser: ask again
        conversation = [dict(m) for m in messages]
        http_attempts = 0
        last_error: Exception | None = None
        for parse_attempt in range(1, self.config.parse_retries + 2):
            content, attempts, used_format = self._post(conversation, schema, schema_name)
            http_attempts += attempts
            try:
                value = parse(content)
            except ReplyParseError as err:
                last_error = err
                conversation = [*conversation, {"role": "assistant", "content": content},
                                {"role": "user", "content": _correction(err)}]
                continue
            if self.cache is not None:
                self.cache.put(key, content, self.config.model)
            return value, Reply(content, False, http_attempts, parse_attempt, used_format)
        raise LLMReplyError(f"{self.config.parse_retries + 1} replies from {self.config.model!r} could not be "
                            f"parsed; last problem: {last_error}")

    def request_identity(self, messages: Sequence[Message], schema: Mapping[str, Any] | None) -> dict[str, Any]:
        """What the cache key is computed from (no API key; the negotiated format is not part of it)."""
        return {"url": self.config.endpoint, "model": self.config.model, "messages": [dict(m) for m in messages],
                "temperature": self.config.temperature, "max_tokens": self.config.max_tokens,
                "seed": self.config.seed, "schema": schema}

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    # -- HTTP ------------------------------------------------------------------------------
    def _client(self) -> Any:
        with self._lock:
            if self._http is None:
                import httpx

                headers = {"Content-Type": "application/json"}
                if self.config.api_key:
                    headers["Authorization"] = f"Bearer {self.config.api_key}"
                self._http = httpx.Client(timeout=self.config.timeout, headers=headers)
            return self._http

    def _body(self, messages: Sequence[Message], schema: Mapping[str, Any] | None, schema_name: str,
              response_format: str) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.config.model, "messages": list(messages),
                                "temperature": self.config.temperature, "max_tokens": self.config.max_tokens,
                                "stream": False}
        if self.config.seed is not None:
            body["seed"] = self.config.seed
        if response_format == "json_schema" and schema is not None:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": schema_name, "strict": True, "schema": schema}}
        elif response_format in ("json_schema", "json_object"):
            body["response_format"] = {"type": "json_object"}
        return body

    def _wait(self, attempt: int, retry_after: str | None = None) -> None:
        delay = self.config.backoff * (2 ** (attempt - 1))
        if retry_after:
            with contextlib.suppress(ValueError):  # an HTTP date: keep our own backoff
                delay = max(delay, float(retry_after))
        self._sleep(min(delay, self.config.max_backoff))

    def _downgrade(self, used: str) -> bool:
        """Step down from a response_format the server rejected; False when there is nothing to drop."""
        if self.config.response_format != "auto" or used == "none":
            return False
        with self._lock:
            if self._format == used:
                self._format = _FORMAT_ORDER[_FORMAT_ORDER.index(used) + 1]
        return True

    def _post(self, messages: Sequence[Message], schema: Mapping[str, Any] | None,
              schema_name: str) -> tuple[str, int, str]:
        import httpx

        client = self._client()
        attempts = 0
        failures = 0
        while True:
            used = self._format
            attempts += 1
            try:
                response = client.post(self.config.endpoint, json=self._body(messages, schema, schema_name, used))
            except httpx.TimeoutException as err:
                problem = f"timed out after {self.config.timeout:g} s ({type(err).__name__})"
                status: int | None = None
                retry_after = None
            except httpx.TransportError as err:
                problem = f"cannot reach {self.config.endpoint}: {err}"
                status, retry_after = None, None
            else:
                status = response.status_code
                if status == 200:
                    return self._content(response), attempts, used
                detail = response.text[:300]
                if status in (400, 422) and "format" in detail.lower() and self._downgrade(used):
                    continue  # schema-constrained output not supported here: ask in a plainer way
                if status in (401, 403):
                    raise LLMHTTPError(f"HTTP {status} from {self.config.endpoint}: check the API key "
                                       f"(AFFECTLENS_LLM_API_KEY); {detail}", status)
                if status not in _RETRY_STATUS:
                    raise LLMHTTPError(f"HTTP {status} from {self.config.endpoint}: {detail}", status)
                problem = f"HTTP {status}: {detail}"
                retry_after = response.headers.get("retry-after")
            failures += 1
            if failures > self.config.max_retries:
                raise LLMHTTPError(f"giving up after {failures} failed request(s) to {self.config.endpoint}; "
                                   f"last: {problem}", status)
            self._wait(failures, retry_after)

    @staticmethod
    def _content(response: Any) -> str:
        try:
            data = response.json()
            content = data["choices"][0]["message"].get("content")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return ""  # an unreadable envelope counts as a malformed reply (re-asked)
        return content if isinstance(content, str) else ""
