"""Errors and the outer middleware of the service: every error is ``{"error", "status", "request_id"}``.

``RequestContext`` gives each request an id (``X-Request-ID`` in and out), logs one line per
request, refuses bodies over the limits (413) and JSON routes sent as something else (415),
reports a multipart body cut before its closing boundary (400), and turns anything unexpected
into a JSON 500 (never a traceback).  ``install_error_handlers`` maps the app's exceptions to
the same body.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from affectlens.service.engine import ServiceError
from affectlens.service.settings import ServiceSettings
from affectlens.service.uploads import UploadRejected

log = logging.getLogger("affectlens.service")
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("affectlens_request_id", default=None)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
#: paths whose bodies are uploads (the upload limit applies instead of the JSON-body limit)
_UPLOAD_PATHS = ("/v1/analyze/audio", "/v1/analyze/image", "/v1/analyze/video", "/v1/jobs")
_JSON_PATHS = ("/v1/analyze/text", "/v1/analyze/texts", "/v1/analyze/dialogue")
_MULTIPART_OVERHEAD = 64 * 1024


# -- errors -----------------------------------------------------------------------------------------


def error_body(status: int, message: str, detail: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": message, "status": status, "request_id": request_id_var.get()}
    if detail is not None:
        body["detail"] = detail
    return body


def error_response(status: int, message: str, detail: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, message, detail), status_code=status, headers=headers)


def _closing_boundary(content_type: str) -> bytes | None:
    """``--<boundary>--`` of a multipart body (the boundary keeps its case)."""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "boundary" and value:
            return b"--" + value.strip('"').encode("latin-1") + b"--"
    return None


def _is_json_type(content_type: str) -> bool:
    mime = content_type.split(";")[0].strip()
    return mime == "application/json" or mime.endswith("+json")


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than the limit of {limit} bytes")


def _validation_message(errors: Sequence[Any]) -> tuple[int, str]:
    if any(e.get("type") == "json_invalid" for e in errors):
        ctx = next(e for e in errors if e.get("type") == "json_invalid").get("ctx", {})
        return 400, f"malformed JSON body: {ctx.get('error', 'cannot be parsed')}"
    parts = []
    for e in errors[:5]:
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return 422, "; ".join(parts) + more


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return error_response(exc.status, exc.message)

    @app.exception_handler(UploadRejected)
    async def _upload_rejected(request: Request, exc: UploadRejected) -> JSONResponse:
        return error_response(exc.status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        status, message = _validation_message(errors)
        detail = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
                  for e in errors[:20]]
        return error_response(status, message, detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 400 and "parsing the body" in message:
            message = "the request body cannot be parsed (truncated or malformed upload?)"
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))


# -- middleware (plain ASGI: no per-request overhead of BaseHTTPMiddleware) ------------------------------


class RequestContext:
    """Request ids (``X-Request-ID`` in and out), one log line per request, 413 on big bodies,
    and a JSON 500 (never a traceback) for anything unexpected."""

    def __init__(self, app: ASGIApp, settings: ServiceSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        request_id_var.set(request_id)
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = (self.settings.max_upload_bytes + _MULTIPART_OVERHEAD if path.startswith(_UPLOAD_PATHS)
                 else self.settings.max_body_bytes)
        started = time.perf_counter()
        status_holder = {"status": 0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        length = headers.get("content-length", "")
        raw_content_type = headers.get("content-type", "")
        content_type = raw_content_type.lower()
        closing = _closing_boundary(raw_content_type) if path.startswith(_UPLOAD_PATHS) else None
        try:
            if length.isdigit() and int(length) > limit:
                await send_error(send_with_id, 413, f"request body larger than the limit of {limit} bytes")
                return
            if (scope.get("method") == "POST" and path in _JSON_PATHS and content_type
                    and not _is_json_type(content_type)):
                await send_error(send_with_id, 415, f"send the body as application/json, not {content_type!r}")
                return
            received = 0
            tail = b""

            async def limited_receive() -> Message:
                nonlocal received, tail
                message = await receive()
                if message["type"] == "http.request":
                    chunk = message.get("body", b"")
                    received += len(chunk)
                    if received > limit:
                        raise BodyTooLarge(limit)
                    if closing is not None:
                        tail = (tail + chunk)[-len(closing) - 8 :]
                        if not message.get("more_body", False) and closing not in tail:
                            # python-multipart silently drops an unfinished part: say what happened
                            raise StarletteHTTPException(400, "truncated upload: the multipart body ends "
                                                              "before its closing boundary")
                return message

            try:
                await self.app(scope, limited_receive, send_with_id)
            except BodyTooLarge as exc:
                if not status_holder["status"]:
                    await send_error(send_with_id, 413, str(exc.detail))
            except Exception:
                log.exception("request %s %s failed [request_id=%s]", scope.get("method"), path, request_id)
                if not status_holder["status"]:
                    await send_error(send_with_id, 500, "internal error; the log has the details "
                                                              f"(request_id {request_id})")
        finally:
            log.info("%s %s %s %.1fms request_id=%s", scope.get("method"), path, status_holder["status"],
                     (time.perf_counter() - started) * 1000, request_id)


async def send_error(send: Send, status: int, message: str, *, event: str = "http.response") -> None:
    """The JSON error straight on an ASGI ``send`` (``event``: ``websocket.http.response`` for a
    refused WebSocket handshake)."""
    response = error_response(status, message)
    await send({"type": f"{event}.start", "status": status, "headers": response.raw_headers})
    await send({"type": f"{event}.body", "body": response.body})
