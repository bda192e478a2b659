"""Fault injection and a call log in front of moto, driven over HTTP by tests and benchmarks.

  POST /_fleetstream/faults  {"latency_ms": {"DescribeInstances": 300},
                              "errors": [{"action": "DescribeInstances", "rate": 0.2,
                                          "code": "RequestLimitExceeded", "status": 503,
                                          "account": "111111111111", "region": "eu-west-1"}]}
                             (account and region are optional filters of an error rule;
                             "action" is the Query-protocol Action or, for JSON-protocol
                             services such as Organizations, the operation of X-Amz-Target,
                             whose injected errors are then JSON; S3 bucket calls are named
                             by operation, e.g. GetBucketLocation; every rule fires at
                             its own rate: the rules matching a call take consecutive
                             slices of one draw, so two rules of 0.3 and 0.15 on one action
                             fail 30% and 15% of its calls; where the rates of a call's
                             rules add up past 1, the earlier rules win; an optional
                             integer "seed" makes the draws replayable)
  GET  /_fleetstream/calls   [{"service", "action", "account", "region", "token", "role_arn",
                               "at"}, ...]
  POST /_fleetstream/reset   clears faults and the call log

The call log is how tests prove what the pipeline asked AWS (e.g. that a resumed shard did not
start again at its first page); moto keeps no such record itself.
"""

from __future__ import annotations

import io
import json
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from moto.iam.models import get_account_id_from
from werkzeug.wsgi import get_input_stream

from devstack.aws_server import ACCESS_KEY
from devstack.s3_rest import s3_request

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
CONTROL = "/_fleetstream/"
_LOG_LIMIT = 200_000


class FaultInjectionMiddleware:
    """Records every AWS call and applies configured latency and error rates."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._faults: dict[str, Any] = {}
        self._random = random.Random()
        self._calls: deque[dict[str, Any]] = deque(maxlen=_LOG_LIMIT)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Serve the control API, or log, delay, fail or pass the AWS call."""
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL):
            return self._control(path[len(CONTROL) :], environ, start_response)
        auth = ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION", ""))
        if auth is None:
            return self.app(environ, start_response)
        action, params = _action_of(environ)
        named = s3_request(environ) if auth.group(2) == "s3" else None
        if named is not None:  # S3 is REST: name its bucket calls so rules can target them
            action = named.operation
        call = {
            "service": auth.group(2),
            "action": action,
            "account": get_account_id_from(auth.group(1)),
            "region": _region_of(environ),
            "token": params.get("NextToken"),
            "role_arn": params.get("RoleArn"),
            "at": time.time(),
        }
        with self._lock:
            self._calls.append(call)
            latency = self._faults.get("latency_ms", {}).get(action, 0)
            matching = [rule for rule in self._faults.get("errors", []) if _matches(rule, call)]
            error = drawn_rule(matching, self._random.random()) if matching else None
        if latency:
            time.sleep(latency / 1000)
        if error:
            code = str(error.get("code", "RequestLimitExceeded"))
            call["injected"] = code
            json_protocol = bool(environ.get("HTTP_X_AMZ_TARGET"))
            return _error(code, int(error.get("status", 503)), start_response, json_protocol)
        return self.app(environ, start_response)

    def _control(self, verb: str, environ: Environ, start_response: StartResponse) -> list[bytes]:
        if verb == "faults":
            faults = json.loads(get_input_stream(environ).read() or b"{}")
            with self._lock:
                self._faults = faults
                self._random = random.Random(faults.get("seed"))
            body: Any = {"ok": True}
        elif verb == "calls":
            with self._lock:
                body = list(self._calls)
        elif verb == "reset":
            with self._lock:
                self._faults = {}
                self._calls.clear()
            body = {"ok": True}
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"unknown control verb"]
        data = json.dumps(body).encode()
        start_response(
            "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        )
        return [data]


def drawn_rule(rules: list[dict[str, Any]], draw: float) -> dict[str, Any] | None:
    """The rule a draw in [0, 1) falls to, each rule owning a slice as wide as its rate.

    Not "the first matching rule, then its rate": that let a 0.3 throttling rule shadow a
    0.15 5xx rule on the same action, which then never fired.
    """
    floor = 0.0
    for rule in rules:
        floor += float(rule.get("rate", 0))
        if draw < floor:
            return rule
    return None


def _matches(rule: dict[str, Any], call: dict[str, Any]) -> bool:
    return all(rule.get(name) in (None, call[name]) for name in ("action", "account", "region"))


def _region_of(environ: Environ) -> str:
    header = environ.get("HTTP_AUTHORIZATION", "")
    # Credential=AKID/date/REGION/service/aws4_request
    parts = header.split("Credential=", 1)[-1].split("/")
    return parts[2] if len(parts) > 3 else ""


def _action_of(environ: Environ) -> tuple[str, dict[str, str]]:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:  # JSON protocols name the operation in a header
        return target.rsplit(".", 1)[-1], {}
    if environ.get("REQUEST_METHOD") != "POST":
        return environ.get("REQUEST_METHOD", ""), {}
    body = get_input_stream(environ).read()
    # moto reads the body again, so hand it a fresh, fully buffered stream.
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ.pop("wsgi.input_terminated", None)
    params = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    return params.pop("Action", ""), params


def _error(
    code: str, status: int, start_response: StartResponse, json_protocol: bool = False
) -> list[bytes]:
    # JSON-protocol services (Organizations, DynamoDB, ...) name the operation in X-Amz-Target
    # and answer errors as JSON; botocore reads no error code out of an XML body for them.
    message = "injected by fleetstream's fault middleware"
    if json_protocol:
        body = json.dumps({"__type": code, "message": message}).encode()
        content_type = "application/x-amz-json-1.1"
    else:
        body = (
            f"<Response><Errors><Error><Code>{escape(code)}</Code>"
            f"<Message>{message}</Message></Error></Errors>"
            f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
        ).encode()
        content_type = "text/xml"
    start_response(
        f"{status} Injected", [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    )
    return [body]
