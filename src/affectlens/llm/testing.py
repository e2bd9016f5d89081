"""A local fake OpenAI-compatible chat server, for tests and demos (no LLM, no network).

It listens on 127.0.0.1 at a free port in a background thread.  Replies come from a
script (a queue of ``FakeReply``: canned, malformed, slow, 429/500 ...) and, once the
script is used up, from ``responder`` (default: a keyword annotator that reads the input
the way a model would and answers in the requested JSON shape).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class FakeReply:
    content: str | None = None  # the assistant message; None with status 200 -> empty choices
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # a raw body instead of the OpenAI envelope


_KEYWORDS: tuple[tuple[str, str, float], ...] = (
    ("happy", "joy", 0.9), ("glad", "happy", 0.8), ("thank", "thankful", 0.8), ("furious", "furious", 0.9),
    ("hate", "anger", 0.8), ("scared", "afraid", 0.8), ("worried", "worried", 0.6), ("sad", "sadness", 0.8),
    ("wow", "surprise", 0.7), ("disgust", "disgust", 0.8), ("blorft", "blorftastic", 0.9),
)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_TURN = re.compile(r'^\[(\d+)\] [^:]*: (".*")$', re.MULTILINE)


def keyword_judgement(text: str) -> dict[str, Any]:
    lowered = text.lower()
    emotions: list[dict[str, Any]] = []
    cues: list[dict[str, str]] = []
    for keyword, word, intensity in _KEYWORDS:
        position = lowered.find(keyword)
        if position >= 0:
            emotions.append({"label": word, "intensity": intensity})
            cues.append({"phrase": text[position: position + len(keyword)], "emotion": word})
    if not emotions:
        emotions = [{"label": "neutral", "intensity": 0.7}]
    rationale = ("The words " + ", ".join(repr(c["phrase"]) for c in cues) + " express it."
                 if cues else "No emotional words.")
    return {"emotions": emotions, "cues": cues, "rationale": rationale, "confidence": 0.75}


def keyword_responder(request: dict[str, Any]) -> str:
    """Answer like a (very simple) model: one judgement, or one per dialogue turn."""
    prompt = request["messages"][-1]["content"]
    if "Your previous reply could not be used" in prompt:  # a re-ask: answer the original input
        prompt = next(m["content"] for m in reversed(request["messages"]) if m["role"] == "user"
                      and "Your previous reply" not in m["content"])
    data = prompt.rsplit("\n\n", 1)[-1]
    if data.startswith("Dialogue"):
        turns = [{"turn": int(i), **keyword_judgement(json.loads(q))} for i, q in _TURN.findall(data)]
        return json.dumps({"turns": turns})
    if data.startswith("Text: "):
        data = json.loads(data[len("Text: "):])
    return json.dumps(keyword_judgement(data))


class FakeChatServer:
    def __init__(self, responder: Callable[[dict[str, Any]], str] = keyword_responder,
                 script: Iterable[FakeReply] = ()) -> None:
        self.responder = responder
        self.script: deque[FakeReply] = deque(script)
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def push(self, *replies: FakeReply) -> None:
        with self._lock:
            self.script.extend(replies)

    def _next(self, request: dict[str, Any]) -> FakeReply:
        with self._lock:
            self.requests.append(request)
            if self.script:
                return self.script.popleft()
        return FakeReply(self.responder(request))

    def start(self) -> FakeChatServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                with owner._lock:
                    owner.headers.append(dict(self.headers.items()))
                reply = owner._next(request)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.body is not None:
                    payload = reply.body
                elif reply.status == 200:
                    choices = [] if reply.content is None else [
                        {"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": reply.content}}]
                    payload = json.dumps({"id": "fake", "object": "chat.completion",
                                          "model": request.get("model"), "choices": choices})
                else:
                    payload = json.dumps({"error": {"message": f"fake error {reply.status}"}})
                encoded = payload.encode("utf-8")
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(encoded)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(encoded)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
