"""The simulator's request handling, free of HTTP: a parsed request in, a reply and a delay out."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.simulator import protocol, tokens
from bench.simulator.config import SimConfig
from bench.simulator.estate import OPT_IN_REGIONS, Estate, Instance
from bench.simulator.limits import Buckets, LatencyModel

XML = "text/xml"
AMZ_JSON = "application/x-amz-json-1.1"
DEFAULT_PAGE = 1000  # DescribeInstances without MaxResults: pages of this size, like AWS
MAX_PAGE = 1000
MIN_PAGE = 5
ORG_PAGE = 20  # ListAccounts returns at most 20 accounts per page
JOINED = datetime(2023, 6, 1, tzinfo=UTC).timestamp()


@dataclass(frozen=True, slots=True)
class Request:
    """One AWS call, as the HTTP layer parsed it."""

    caller: protocol.Caller
    params: Mapping[str, str] = field(default_factory=dict)  # query protocols
    target: str | None = None  # X-Amz-Target of JSON protocols
    body: Mapping[str, Any] = field(default_factory=dict)  # JSON protocols


@dataclass(frozen=True, slots=True)
class Reply:
    """What to send back, after sleeping delay_s."""

    status: int
    content_type: str
    body: bytes
    action: str
    delay_s: float = 0.0
    throttled: bool = False
    items: int = 0


class SimError(Exception):
    """An AWS error answer: code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class Stats:
    """Counters for /_sim/stats; cheap enough to update on every call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.throttles: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.items = 0
        self.bytes_out = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.started = time.monotonic()

    def begin(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def end(self, reply: Reply) -> None:
        with self._lock:
            self.in_flight -= 1
            self.calls[reply.action] += 1
            self.items += reply.items
            self.bytes_out += len(reply.body)
            if reply.throttled:
                self.throttles[reply.action] += 1
            elif reply.status >= 400:
                self.errors[f"{reply.action}:{reply.status}"] += 1

    def snapshot(self, overrides: int, buckets: int) -> dict[str, Any]:
        """Totals since start, with this process' CPU time (user + system, all threads)."""
        times = os.times()
        with self._lock:
            return {
                "calls": sum(self.calls.values()),
                "throttles": sum(self.throttles.values()),
                "errors": dict(self.errors),
                "by_action": {
                    a: {"calls": n, "throttles": self.throttles[a]} for a, n in self.calls.items()
                },
                "items": self.items,
                "bytes_out": self.bytes_out,
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "cpu_s": round(times.user + times.system, 3),
                "wall_s": round(time.monotonic() - self.started, 3),
                "threads": threading.active_count(),
                "tag_overrides": overrides,
                "buckets": buckets,
            }


class Simulator:
    """EC2 (DescribeInstances, DescribeRegions, CreateTags), STS and Organizations ListAccounts."""

    def __init__(self, config: SimConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.estate = Estate(config.estate)
        self.buckets = Buckets(config.throttle, clock)
        self.latency = LatencyModel(config.latency, config.estate.seed)
        self.stats = Stats()
        self._serial = 0
        self._lock = threading.Lock()

    @property
    def hub(self) -> str:
        return self.config.estate.hub_account_id

    def handle(self, request: Request) -> Reply:
        """Answer one call: throttle check, the action, the service time to wait."""
        service = request.caller.service
        account = protocol.account_of_key(request.caller.access_key, self.hub)
        if service == "ec2":
            action = request.params.get("Action", "")
            klass = "describe" if action.startswith("Describe") else "mutate"
            region = request.caller.region
        elif service == "sts":
            action, klass, region = request.params.get("Action", ""), "sts", "global"
        elif service == "organizations":
            target = request.target or ""
            action = target.removeprefix(protocol.ORG_TARGET_PREFIX)
            klass, region = "organizations", "global"
        else:
            return self._error(service, "UnknownService", f"no service {service}", 400, service)
        if self.config.enabled and not self.buckets.take(account, region, klass):
            # AWS refuses at once, but the refusal still travels the network.
            refused = self._throttled(service, action)
            delay = self.latency.seconds(describe=False)
            return Reply(refused.status, refused.content_type, refused.body, action, delay, True)
        try:
            status, body, items = self._dispatch(service, action, account, request)
        except SimError as error:
            reply = self._error(service, error.code, str(error), error.status, action)
        else:
            content_type = AMZ_JSON if service == "organizations" else XML
            reply = Reply(status, content_type, body, action, items=items)
        if not self.config.enabled:
            return reply
        delay = self.latency.seconds(klass == "describe", reply.items)
        return Reply(reply.status, reply.content_type, reply.body, action, delay, items=reply.items)

    # ---- dispatch ----------------------------------------------------------------------------

    def _dispatch(
        self, service: str, action: str, account: str, request: Request
    ) -> tuple[int, bytes, int]:
        if service == "ec2":
            region = request.caller.region
            if not self.estate.has_account(account) or not self.estate.region_enabled(region):
                raise SimError(
                    "AuthFailure",
                    "AWS was not able to validate the provided access credentials",
                    401,
                )
            if action == "DescribeInstances":
                return self._describe_instances(account, region, request.params)
            if action == "DescribeRegions":
                return 200, self._describe_regions(request.params), 0
            if action == "CreateTags":
                return 200, self._create_tags(account, region, request.params), 0
            if action == "TerminateInstances":
                return 200, self._terminate(account, region, request.params), 0
        elif service == "sts":
            if action == "AssumeRole":
                return 200, self._assume_role(account, request.params), 0
            if action == "GetCallerIdentity":
                return 200, self._caller_identity(account, request.caller.access_key), 0
        elif action == "ListAccounts":
            return 200, self._list_accounts(account, request.body), 0
        raise SimError("InvalidAction", f"The action {action} is not valid for this simulator")

    def _describe_instances(
        self, account: str, region: str, params: Mapping[str, str]
    ) -> tuple[int, bytes, int]:
        filters = protocol.ec2_filters(params)
        matchers = [_matcher(name, values) for name, values in filters]
        ids = set(protocol.indexed(params, "InstanceId"))
        if ids and "MaxResults" in params:
            raise SimError(
                "InvalidParameterCombination",
                "The parameter instancesSet cannot be used with the parameter maxResults",
            )
        page = _page_size(params.get("MaxResults"))
        scope = f"{account}/{region}/DescribeInstances"
        digest = tokens.query_digest(
            [(f"{n}", ",".join(v)) for n, v in filters] + [("ids", ",".join(sorted(ids)))]
        )
        start = 0
        if params.get("NextToken"):
            try:
                start = tokens.decode(params["NextToken"], scope, digest)
            except tokens.BadTokenError as exc:
                raise SimError("InvalidParameterValue", str(exc)) from None
        count = self.estate.count(account, region)
        if ids:  # by id: a scan, as nothing maps an id back to its index
            found = [
                i
                for i in self.estate.instances(account, region)
                if i.instance_id in ids and all(m(i) for m in matchers)
            ]
            missing = ids - {i.instance_id for i in found}
            if missing:
                raise SimError(
                    "InvalidInstanceID.NotFound",
                    f"The instance ID '{sorted(missing)[0]}' does not exist",
                )
            body = protocol.describe_instances(found, account, region, None, _request_id())
            return 200, body, len(found)
        stop = min(start + page, count)
        # Filters apply within the page's window: a page may hold fewer than MaxResults items,
        # exactly as EC2 documents for filtered describes.
        instances = [
            i
            for i in self.estate.instances(account, region, start, stop)
            if all(m(i) for m in matchers)
        ]
        token = tokens.encode(scope, stop, digest) if stop < count else None
        body = protocol.describe_instances(instances, account, region, token, _request_id())
        return 200, body, len(instances)

    def _describe_regions(self, params: Mapping[str, str]) -> bytes:
        regions = [(r, "opt-in-not-required") for r in self.config.estate.regions]
        if params.get("AllRegions", "false").lower() == "true":
            regions += [(r, "not-opted-in") for r in OPT_IN_REGIONS]
        names = set(protocol.indexed(params, "RegionName"))
        if names:
            regions = [r for r in regions if r[0] in names]
        for name, values in protocol.ec2_filters(params):
            if name == "opt-in-status":
                regions = [r for r in regions if r[1] in values]
            elif name == "region-name":
                regions = [r for r in regions if r[0] in values]
            else:
                raise SimError("InvalidParameterValue", f"The filter '{name}' is invalid")
        return protocol.describe_regions(regions, _request_id())

    def _create_tags(self, account: str, region: str, params: Mapping[str, str]) -> bytes:
        resources = protocol.indexed(params, "ResourceId")
        tags = protocol.ec2_tags(params)
        if not resources or not tags:
            raise SimError("MissingParameter", "ResourceId and Tag are required")
        for resource in resources:
            self.estate.overrides.set(account, region, resource, tags)
        return protocol.create_tags(_request_id())

    def _terminate(self, account: str, region: str, params: Mapping[str, str]) -> bytes:
        ids = protocol.indexed(params, "InstanceId")
        if not ids:
            raise SimError("MissingParameter", "InstanceId is required")
        for instance_id in ids:
            self.estate.overrides.terminate(account, region, instance_id)
        return protocol.terminate_instances(ids, _request_id())

    def _assume_role(self, caller: str, params: Mapping[str, str]) -> bytes:
        role_arn = params.get("RoleArn", "")
        parts = role_arn.split(":")
        if len(parts) < 6 or parts[2] != "iam" or ":role/" not in role_arn:
            raise SimError("ValidationError", f"{role_arn!r} is not a valid role ARN")
        target = parts[4]
        if not self.estate.has_account(target):
            raise SimError(
                "AccessDenied",
                f"User: arn:aws:iam::{caller}:user/hub is not authorized to perform: "
                f"sts:AssumeRole on resource: {role_arn}",
                403,
            )
        with self._lock:
            self._serial += 1
            serial = self._serial
        duration = int(params.get("DurationSeconds", "3600"))
        expiration = (datetime.now(UTC) + timedelta(seconds=duration)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        return protocol.assume_role(
            protocol.session_access_key(target, serial),
            uuid.uuid4().hex,
            f"FwoGZXIvYXdzE{uuid.uuid4().hex}{uuid.uuid4().hex}",
            expiration,
            role_arn,
            params.get("RoleSessionName", "session"),
            _request_id(),
        )

    def _caller_identity(self, account: str, access_key: str) -> bytes:
        if account == self.hub:
            arn, user = f"arn:aws:iam::{account}:user/hub", "AIDASIMULATEDHUB"
        else:
            arn, user = f"arn:aws:sts::{account}:assumed-role/simulated/session", access_key
        return protocol.get_caller_identity(account, arn, user, _request_id())

    def _list_accounts(self, caller: str, body: Mapping[str, Any]) -> bytes:
        if caller != self.hub:
            raise SimError(
                "AWSOrganizationsNotInUseException",
                "Your account is not a member of an organization.",
            )
        page = min(int(body.get("MaxResults", ORG_PAGE)), ORG_PAGE)
        start = 0
        if body.get("NextToken"):
            try:
                start = tokens.decode(str(body["NextToken"]), "organizations/ListAccounts")
            except tokens.BadTokenError as exc:
                raise SimError("InvalidInputException", str(exc)) from None
        stop = start + page
        total = self.config.estate.accounts
        token = tokens.encode("organizations/ListAccounts", stop) if stop < total else None
        return protocol.list_accounts(self.estate.accounts(start, stop), self.hub, JOINED, token)

    # ---- errors ------------------------------------------------------------------------------

    def _throttled(self, service: str, action: str) -> Reply:
        if service == "ec2":
            body = protocol.ec2_error(
                "RequestLimitExceeded", "Request limit exceeded.", _request_id()
            )
            return Reply(503, XML, body, action, throttled=True)
        if service == "sts":
            body = protocol.query_error("Throttling", "Rate exceeded", _request_id())
            return Reply(400, XML, body, action, throttled=True)
        body = protocol.json_error("TooManyRequestsException", "Rate exceeded")
        return Reply(400, AMZ_JSON, body, action, throttled=True)

    def _error(self, service: str, code: str, message: str, status: int, action: str) -> Reply:
        if service == "organizations":
            return Reply(status, AMZ_JSON, protocol.json_error(code, message), action)
        if service == "ec2":
            return Reply(status, XML, protocol.ec2_error(code, message, _request_id()), action)
        return Reply(status, XML, protocol.query_error(code, message, _request_id()), action)

    def stats_json(self) -> bytes:
        """/_sim/stats: calls, throttles, CPU and wall seconds, plus the estate's shape."""
        snapshot = self.stats.snapshot(len(self.estate.overrides), len(self.buckets))
        snapshot["estate"] = {
            "accounts": self.config.estate.accounts,
            "regions": list(self.config.estate.regions),
            "instances_per_region": self.config.estate.instances_per_region,
            "live_instances": self.config.estate.live_instances,
        }
        return json.dumps(snapshot).encode()


def _page_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE
    try:
        value = int(raw)
    except ValueError:
        raise SimError("InvalidParameterValue", f"Invalid value '{raw}' for maxResults") from None
    if not MIN_PAGE <= value <= MAX_PAGE:
        raise SimError(
            "InvalidParameterValue",
            f"Value ( {value} ) for parameter maxResults is invalid. "
            f"Expecting a value between {MIN_PAGE} and {MAX_PAGE}.",
        )
    return value


def _matcher(name: str, values: list[str]) -> Callable[[Instance], bool]:
    wanted = set(values)
    if name == "instance-state-name":
        return lambda i: i.state in wanted
    if name == "instance-type":
        return lambda i: i.instance_type in wanted
    if name == "instance-id":
        return lambda i: i.instance_id in wanted
    if name == "tag-key":
        return lambda i: any(k in wanted for k, _ in i.tags)
    if name.startswith("tag:"):
        key = name[4:]
        return lambda i: any(k == key and v in wanted for k, v in i.tags)
    raise SimError("InvalidParameterValue", f"The filter '{name}' is invalid")


def _request_id() -> str:
    return str(uuid.uuid4())
