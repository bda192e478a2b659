"""An HTTP fault layer in front of DynamoDB Local: what DynamoDB does to a busy table.

DynamoDB Local never throttles, never returns UnprocessedItems/UnprocessedKeys and never hangs,
so the sink's retry loops would never run against it. This proxy forwards every request, and
while a fault mode is on it answers instead, the way DynamoDB does:

- throttle: some requests get ProvisionedThroughputExceededException (HTTP 400, DynamoDB's JSON
  error body), not forwarded;
- unprocessed: some BatchWriteItem requests forward only part of their items, the rest come
  back in UnprocessedItems; some BatchGetItem requests likewise return part of their keys in
  UnprocessedKeys. The first eligible request (two entries or more) of each operation after
  busy() is always partial, never throttled: a trial proves that the sink's retry loops met a
  partial batch, and a random draw over the few eligible requests of a window can miss it;
- hang: every request is read and never answered (the connection stays open) until heal();
- fail: every request of some operations (Query, say) fails until heal(), as DynamoDB or the
  network fails one: HTTP 500 InternalServerError, throttling (HTTP 400), or the connection
  closed without an answer. The other operations go through, so a test reaches the one read
  path it means to break.

Everything it served is counted, so a trial proves both that the fault happened and, against
the sink's own metrics, that the sink's retry paths met it.
"""

from __future__ import annotations

import http.client
import json
import random
import select
import socket
import threading
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSON_TYPE = "application/x-amz-json-1.0"
THROTTLE_TYPE = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
SERVER_ERROR_TYPE = "com.amazonaws.dynamodb.v20120810#InternalServerError"
# How fail() fails a request: an HTTP 500, a throttle, or a connection closed unanswered.
FAILURES = ("server-error", "throttle", "close")


class DynamoDBFaults:
    """The fault layer: start it on a free port; point clients at `endpoint`."""

    def __init__(self, target_host: str, target_port: int, seed: int) -> None:
        self.target = (target_host, target_port)
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.throttle_rate = 0.0
        self.unprocessed_rate = 0.0
        # Operations whose next eligible request is partial whatever the draw (see busy()).
        self.owed: set[str] = set()
        self.hanging = threading.Event()
        self.failing: frozenset[str] = frozenset()  # operations fail() fails
        self.failure = FAILURES[0]
        self.healed = threading.Event()
        # What was served: throttled, unprocessed items, unprocessed keys, hung, abandoned...
        self.served: Counter[str] = Counter()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, daemon=True, name="dynamodb-faults"
        ).start()

    @classmethod
    def in_front_of(cls, endpoint: str, seed: int) -> DynamoDBFaults:
        """The layer in front of DynamoDB at endpoint (http://host:port)."""
        host, port = endpoint.removeprefix("http://").rsplit(":", 1)
        return cls(host, int(port), seed)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def busy(self, throttle_rate: float, unprocessed_rate: float) -> None:
        """Throttle and return partial batches at these rates (0 turns them off); with a
        non-zero unprocessed_rate the first eligible BatchWriteItem and BatchGetItem are
        always partial."""
        with self.lock:
            self.throttle_rate = throttle_rate
            self.unprocessed_rate = unprocessed_rate
            self.owed = {"BatchWriteItem", "BatchGetItem"} if unprocessed_rate > 0 else set()

    def owes_partial(self, operation: str) -> bool:
        """Whether this eligible request must be partial; it settles the debt."""
        with self.lock:
            if operation in self.owed:
                self.owed.discard(operation)
                return True
            return False

    def hang(self) -> None:
        """Read every request and answer none until heal()."""
        self.healed.clear()
        self.hanging.set()

    def fail(self, operations: set[str], failure: str) -> None:
        """Fail every request of these operations (X-Amz-Target names, e.g. Query) until heal()."""
        if failure not in FAILURES:
            raise ValueError(f"failure {failure!r}: one of {FAILURES}")
        with self.lock:
            self.failing = frozenset(operations)
            self.failure = failure

    def heal(self) -> None:
        """Forward everything again; requests hung so far are dropped unanswered."""
        self.busy(0.0, 0.0)
        self.fail(set(), FAILURES[0])
        self.hanging.clear()
        self.healed.set()

    def close(self) -> None:
        self.heal()
        self.server.shutdown()
        self.server.server_close()

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.served[what] += n

    def draw(self, rate: float) -> bool:
        with self.lock:
            return rate > 0 and self.rng.random() < rate

    def split(self, entries: list[Any]) -> tuple[list[Any], list[Any]]:
        """Entries to forward and entries to hand back unprocessed (at least one of each)."""
        with self.lock:
            kept = self.rng.randint(1, len(entries) - 1)
        return entries[:kept], entries[kept:]


def _entries(operation: str, request: dict[str, Any]) -> int:
    """How many items (BatchWriteItem) or keys (BatchGetItem) the request's first table has:
    only one of two or more can be split into a partial answer."""
    items: dict[str, Any] = request.get("RequestItems") or {}
    if not items:
        return 0
    entry = next(iter(items.values()))
    return len(entry["Keys"] if operation == "BatchGetItem" else entry)


def _handler_for(layer: DynamoDBFaults) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per request on stderr would drown the test output

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
            if layer.hanging.is_set():
                self._hang(operation)
                return
            with layer.lock:
                failure = layer.failure if operation in layer.failing else None
            if failure is not None:
                self._fail(operation, failure)
                return
            batch = operation in ("BatchWriteItem", "BatchGetItem")
            request = json.loads(body) if batch else {}
            if batch and _entries(operation, request) >= 2 and layer.owes_partial(operation):
                self._partial(operation, request)
                return
            if layer.draw(layer.throttle_rate):
                layer.count(f"throttled {operation}")
                self._answer(
                    400,
                    {
                        "__type": THROTTLE_TYPE,
                        "message": "The level of "
                        "configured provisioned throughput for the table was exceeded.",
                    },
                )
                return
            if batch and layer.draw(layer.unprocessed_rate):
                self._partial(operation, request)
                return
            status, payload = self._forward(body)
            self._answer_raw(status, payload)

        def _fail(self, operation: str, failure: str) -> None:
            layer.count(f"failed {operation} ({failure})")
            if failure == "close":
                # Request read, no answer, connection closed: the client's ConnectionClosedError.
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if failure == "throttle":
                self._answer(400, {"__type": THROTTLE_TYPE, "message": "Throughput exceeded"})
                return
            self._answer(500, {"__type": SERVER_ERROR_TYPE, "message": "Internal server error"})

        def _hang(self, operation: str) -> None:
            layer.count(f"hung {operation}")
            # Never answer; a client that gives up (read timeout) closes its end: count that,
            # it is the proof that the client's timeout, not the heal, ended the request.
            while not layer.healed.is_set():
                readable, _, _ = select.select([self.connection], [], [], 0.2)
                if readable and not self.connection.recv(1, socket.MSG_PEEK):  # EOF, not data
                    layer.count("hung requests abandoned by the client")
                    break
            self.close_connection = True

        def _partial(self, operation: str, request: dict[str, Any]) -> None:
            items: dict[str, Any] = request["RequestItems"]
            field = "Keys" if operation == "BatchGetItem" else None
            table, entry = next(iter(items.items()))
            entries = entry[field] if field else entry
            if len(entries) < 2:
                self._answer_raw(*self._forward(json.dumps(request).encode()))
                return
            forwarded, held = layer.split(list(entries))
            if field:
                request["RequestItems"] = {**items, table: {**entry, field: forwarded}}
            else:
                request["RequestItems"] = {**items, table: forwarded}
            status, payload = self._forward(json.dumps(request).encode())
            if status != 200:
                self._answer_raw(status, payload)
                return
            response = json.loads(payload)
            if field:
                response["UnprocessedKeys"] = {table: {**entry, field: held}}
                layer.count("unprocessed keys", len(held))
            else:
                response["UnprocessedItems"] = {table: held}
                layer.count("unprocessed items", len(held))
            self._answer(200, response)

        def _forward(self, body: bytes) -> tuple[int, bytes]:
            upstream = http.client.HTTPConnection(*layer.target, timeout=60)
            try:
                headers = {
                    name: value
                    for name, value in self.headers.items()
                    # The answer is re-sent (or rewritten) as plain JSON: no compression.
                    if name.lower()
                    not in ("host", "content-length", "connection", "accept-encoding")
                }
                upstream.request("POST", self.path, body=body, headers=headers)
                response = upstream.getresponse()
                return response.status, response.read()
            finally:
                upstream.close()

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            self._answer_raw(status, json.dumps(payload).encode())

        def _answer_raw(self, status: int, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", JSON_TYPE)
            self.send_header("Content-Length", str(len(payload)))
            # botocore checks DynamoDB's body checksum; a rewritten body needs a new one.
            self.send_header("x-amz-crc32", str(zlib.crc32(payload) & 0xFFFFFFFF))
            self.end_headers()
            self.wfile.write(payload)

    return Handler
