"""The simulator's HTTP layer: a threaded HTTP/1.1 server, one thread per connection.

A thread per connection is what lets the latency model sleep without blocking anyone else:
a sleeping thread holds no lock and no GIL. Control endpoints live under /_sim/.
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from bench.simulator.config import SimConfig
from bench.simulator.protocol import caller_of, query_params
from bench.simulator.service import Reply, Request, Simulator

CONTROL = "/_sim/"


class SimulatorServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with a deep accept backlog (hundreds of clients connect at once)."""

    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        super().__init__(address, _Handler)
        self.simulator = simulator

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: boto3 reuses its pooled connections
    timeout = 300  # an idle kept-alive connection frees its thread after this
    server: SimulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request access log (thousands of lines per sweep)."""

    def do_GET(self) -> None:
        """Control endpoints and GET-style query calls."""
        self._serve(b"")

    def do_POST(self) -> None:
        """Every AWS call boto3 makes here is a POST."""
        length = int(self.headers.get("Content-Length") or 0)
        self._serve(self.rfile.read(length) if length else b"")

    def _serve(self, body: bytes) -> None:
        parts = urlsplit(self.path)
        simulator = self.server.simulator
        if parts.path.startswith(CONTROL):
            self._control(parts.path[len(CONTROL) :])
            return
        caller = caller_of(self.headers.get("Authorization", ""))
        if caller is None:
            self._send(403, "text/plain", b"unsigned request: the simulator needs SigV4")
            return
        target = self.headers.get("X-Amz-Target")
        request = Request(
            caller,
            params={} if target else query_params(body, parts.query),
            target=target,
            body=json.loads(body or b"{}") if target else {},
        )
        simulator.stats.begin()
        reply: Reply | None = None
        try:
            reply = simulator.handle(request)
            if reply.delay_s > 0:
                time.sleep(reply.delay_s)
            self._send(reply.status, reply.content_type, reply.body)
        finally:
            simulator.stats.end(reply or Reply(500, "text/plain", b"", "internal-error"))

    def _control(self, verb: str) -> None:
        if verb == "stats":
            self._send(200, "application/json", self.server.simulator.stats_json())
        elif verb == "config":
            config = self.server.simulator.config.to_json().encode()
            self._send(200, "application/json", config)
        else:
            self._send(404, "text/plain", b"unknown control endpoint")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", "simulated")
        self.end_headers()
        self.wfile.write(body)


def make_server(config: SimConfig, host: str = "127.0.0.1", port: int = 0) -> SimulatorServer:
    """A bound, not yet serving simulator server (port 0: any free port)."""
    return SimulatorServer((host, port), Simulator(config))
