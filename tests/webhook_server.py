"""A real local HTTP server that stands in for an incoming webhook: records every POST and
answers with scripted statuses (500, 429 with Retry-After, 404 ...), 200 once the script ends."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True, slots=True)
class Answer:
    """One scripted response."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = "ok"


@dataclass(frozen=True, slots=True)
class Request:
    """One POST the server received, with the status it answered."""

    path: str
    body: dict[str, Any]
    status: int
    at: float  # monotonic seconds


class RecordingWebhook:
    """The server's state: a script of answers, a default answer and what was received."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.script: list[Answer] = []
        self.default = Answer()
        self._lock = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The webhook URL; its path stands for the secret token of a real one."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/services/T0001/B0002/{SECRET_TOKEN}"

    def answer(self, *script: Answer, default: Answer | None = None) -> None:
        """Answer the next requests with script, then with default (unchanged if None)."""
        with self._lock:
            self.script = list(script)
            if default is not None:
                self.default = default

    def posted(self) -> list[Request]:
        """The requests answered with a 2xx."""
        with self._lock:
            return [r for r in self.requests if 200 <= r.status < 300]

    def wait_for(self, condition: Callable[[list[Request]], bool], timeout_s: float) -> None:
        """Wait until condition(requests) holds; fail the test with what was received if not."""
        with self._lock:
            if not self._lock.wait_for(lambda: condition(self.requests), timeout_s):
                statuses = [r.status for r in self.requests]
                pytest.fail(f"webhook condition not met in {timeout_s}s; got {statuses}")

    def _record(self, path: str, body: dict[str, Any]) -> Answer:
        with self._lock:
            answer = self.script.pop(0) if self.script else self.default
            self.requests.append(Request(path, body, answer.status, time.monotonic()))
            self._lock.notify_all()
            return answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                answer = webhook._record(self.path, json.loads(self.rfile.read(length)))
                payload = answer.body.encode()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet test output

        return Handler

    def __enter__(self) -> RecordingWebhook:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


SECRET_TOKEN = "XsecretTOKENx"  # a test value, asserted never to appear in logs


@pytest.fixture
def webhook() -> Iterator[RecordingWebhook]:
    """A recording webhook on 127.0.0.1 at a free port, stopped after the test."""
    with RecordingWebhook() as server:
        yield server
