"""Who may talk to the service: Host and Origin checks, the stream's API key, secrets kept out of logs.

Policies (``docs/service.md``, "Security"):

* **Host** (DNS rebinding): a request whose ``Host`` names a host the service does not answer
  to gets **421**.  By default the service answers to the names of the address it is bound
  to: ``localhost``, ``127.0.0.1`` and ``::1`` when bound to loopback; the bound address itself
  (plus this machine's host names) otherwise; on a wildcard bind (``0.0.0.0``, ``::``) any IP
  literal plus this machine's names.  A rebinding attack needs a name the attacker controls,
  so IP literals are never a rebinding risk.  ``allowed_hosts`` (``--allowed-hosts``,
  comma-separated, ``*`` for any) replaces the default.
* **Origin** (cross-site requests): a browser's ``Origin`` on a state-changing request
  (any method but GET/HEAD/OPTIONS) or on a WebSocket handshake must be the service's own
  origin (same scheme-less ``host:port`` as the ``Host`` header) or one listed in
  ``allowed_origins``; otherwise **403**.  No ``Origin`` (curl, scripts, the CLI) is allowed:
  only browsers send it, and they always do on cross-origin POSTs and WebSockets.
* **Stream key**: ``Authorization: Bearer <key>`` (as the HTTP routes), or, from a browser
  that cannot set headers, the WebSocket subprotocol ``affectlens.key.<base64url(key)>``
  (offered next to ``affectlens.v1``, which the server then selects).  ``?api_key=`` is still
  accepted for old clients and is redacted from every log line (``RedactSecrets``).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import ipaddress
import logging
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from affectlens.service.middleware import send_error
from affectlens.service.settings import ServiceSettings

log = logging.getLogger("affectlens.service")

#: methods that change nothing: a foreign Origin on them can read nothing either (no CORS headers are sent)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})
#: the subprotocol a browser offers (with the key one) so that the server can select a key-free one
STREAM_SUBPROTOCOL = "affectlens.v1"
KEY_SUBPROTOCOL_PREFIX = "affectlens.key."

# -- hosts and origins ----------------------------------------------------------------------------------


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _is_loopback(name: str) -> bool:
    return name == "localhost" or (_is_ip(name) and ipaddress.ip_address(name).is_loopback)


def _machine_names() -> set[str]:
    names = set()
    for lookup in (socket.gethostname, socket.getfqdn):
        with contextlib.suppress(OSError):  # no name service: the other names still work
            names.add(lookup().lower())
    return {n for n in names if n}


def split_host(value: str) -> str:
    """``Host``/netloc -> the lower-case host name without port, brackets or a trailing dot."""
    value = value.strip().lower()
    if value.startswith("["):  # [v6]:port
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def _split_list(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


@dataclass(frozen=True)
class HostPolicy:
    """The host names the service answers to (``any_host``: every name; ``any_ip``: every IP literal)."""

    names: frozenset[str]
    any_ip: bool = False
    any_host: bool = False

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> HostPolicy:
        configured = _split_list(settings.allowed_hosts)
        if configured:
            return cls(frozenset(split_host(h) for h in configured if h != "*"), any_host="*" in configured)
        bound = split_host(settings.host)
        if bound in WILDCARD_BINDS:
            return cls(frozenset(LOOPBACK_NAMES | _machine_names()), any_ip=True)
        if _is_loopback(bound):
            return cls(frozenset(LOOPBACK_NAMES | {bound}))
        return cls(frozenset({bound} | _machine_names()))

    def allows(self, host_header: str) -> bool:
        host = split_host(host_header)
        return self.any_host or host in self.names or (self.any_ip and _is_ip(host))

    def describe(self) -> str:
        if self.any_host:
            return "any host"
        listed = ", ".join(sorted(self.names))
        return listed + (" and any IP address" if self.any_ip else "")


def _normal_origin(origin: str) -> str:
    return origin.strip().lower().rstrip("/")


def origin_allowed(origin: str, host_header: str | None, allowed: Iterable[str]) -> bool:
    """Same origin as the request's ``Host``, or listed in ``allowed`` (``*``: any)."""
    origin = _normal_origin(origin)
    listed = allowed if isinstance(allowed, frozenset) else frozenset(_normal_origin(o) for o in allowed)
    if "*" in listed or origin in listed:
        return True
    scheme, sep, netloc = origin.partition("://")
    if not sep or scheme not in ("http", "https") or not host_header:  # "null" (file://, sandboxes) is foreign
        return False
    default_port = ":443" if scheme == "https" else ":80"
    host = host_header.strip().lower()
    return netloc == host or netloc == host.removesuffix(default_port) or netloc + default_port == host


class HostOriginGuard:
    """ASGI middleware: 421 for a foreign ``Host``, 403 for a foreign ``Origin`` where it could change state.

    A refused WebSocket handshake gets the same JSON answer as HTTP when the server supports
    denial responses (uvicorn does), else a plain close (HTTP 403)."""

    def __init__(self, app: ASGIApp, settings: ServiceSettings) -> None:
        self.app = app
        self.hosts = HostPolicy.from_settings(settings)
        self.origins = frozenset(_normal_origin(o) for o in _split_list(settings.allowed_origins))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = origin = None
        for name, value in scope.get("headers", ()):  # ASGI header names are lower-case bytes
            if name == b"host":
                host = value.decode("latin-1")
            elif name == b"origin":
                origin = value.decode("latin-1")
        changes_state = scope["type"] == "websocket" or scope.get("method", "GET") not in SAFE_METHODS
        if host is not None and not self.hosts.allows(host):
            # a DNS-rebinding page, or a proxy that forwards another name: say how to allow it
            message = (f"host {split_host(host)!r} is not one this service answers to ({self.hosts.describe()}); "
                       "start it with --allowed-hosts to add it")
            await self._refuse(scope, send, 421, message)
        elif origin is not None and changes_state and not origin_allowed(origin, host, self.origins):
            message = (f"cross-origin request from {origin!r} refused; start the service with --allowed-origins "
                       "to allow it")
            await self._refuse(scope, send, 403, message)
        else:
            await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send, status: int, message: str) -> None:
        log.warning("refused %s %s: %s", scope.get("method", "WebSocket"), scope.get("path", ""), message)
        if scope["type"] == "http":
            await send_error(send, status, message)
        elif "websocket.http.response" in scope.get("extensions", {}):
            await send_error(send, status, message, event="websocket.http.response")
        else:
            await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})


# -- the stream's API key ---------------------------------------------------------------------------------


def offered_subprotocols(headers: Mapping[str, str]) -> list[str]:
    return _split_list(headers.get("sec-websocket-protocol"))


def key_subprotocol(key: str) -> str:
    """The subprotocol a browser offers to send ``key`` (base64url, no padding: any key is a valid token)."""
    return KEY_SUBPROTOCOL_PREFIX + base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def _key_from_subprotocol(protocol: str) -> str | None:
    encoded = protocol[len(KEY_SUBPROTOCOL_PREFIX) :]
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, ValueError):
        return None


def stream_credentials(headers: Mapping[str, str], query: Mapping[str, str],
                       key: str | None) -> tuple[bool, str | None]:
    """(key accepted, subprotocol to select) for a WebSocket handshake.

    Key sources, first found wins: ``Authorization: Bearer``, the ``affectlens.key.*``
    subprotocol, ``?api_key=`` (old clients; redacted in logs).  The selected subprotocol is
    ``affectlens.v1`` when offered (a browser fails a handshake that selects none of several
    offered), else the key one, else none."""
    offered = offered_subprotocols(headers)
    key_protocols = [p for p in offered if p.startswith(KEY_SUBPROTOCOL_PREFIX)]
    selected = STREAM_SUBPROTOCOL if STREAM_SUBPROTOCOL in offered else (key_protocols[0] if key_protocols else None)
    if not key:
        return True, selected
    authorization = headers.get("authorization", "")
    given: str | None = None
    if authorization.lower().startswith("bearer "):
        given = authorization[7:].strip()
    elif key_protocols:
        given = _key_from_subprotocol(key_protocols[0])
    else:
        given = query.get("api_key")
    accepted = given is not None and hmac.compare_digest(given.encode(), key.encode())
    return accepted, selected


# -- secrets out of logs --------------------------------------------------------------------------------------


_SECRETS = (
    (re.compile(r"([?&](?:api_key|apikey|access_token|token)=)[^&\s\"']*", re.IGNORECASE), r"\1[redacted]"),
    (re.compile(re.escape(KEY_SUBPROTOCOL_PREFIX) + r"[A-Za-z0-9_-]+"), KEY_SUBPROTOCOL_PREFIX + "[redacted]"),
    (re.compile(r"(bearer\s+)[^\s,\"']+", re.IGNORECASE), r"\1[redacted]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites a record whose message holds a key (``?api_key=``, a bearer token, the key subprotocol)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


#: uvicorn logs every WebSocket handshake with its query string on "uvicorn.error", and requests on "uvicorn.access"
LOGGERS_WITH_URLS = ("uvicorn", "uvicorn.error", "uvicorn.access", "affectlens.service", "websockets")


def install_log_redaction() -> RedactSecrets:
    """Add the filter to the loggers that write URLs and to their handlers (records propagated from
    child loggers skip a parent logger's filters but not its handlers'); idempotent."""
    redactor = RedactSecrets()
    targets: list[logging.Filterer] = []
    for name in (*LOGGERS_WITH_URLS, None):
        logger = logging.getLogger(name)
        targets.append(logger)
        targets.extend(logger.handlers)
    for target in targets:
        if not any(isinstance(f, RedactSecrets) for f in target.filters):
            target.addFilter(redactor)
    return redactor
