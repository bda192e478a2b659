"""The only place that builds AWS clients: hub clients and member-account clients via AssumeRole."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from typing import Any

import boto3
from botocore.config import Config
from botocore.credentials import DeferredRefreshableCredentials
from cachetools import LRUCache

from fleetstream.aws.botocore_data import new_session
from fleetstream.aws.member_clients import MEMBERS, Member, SharedMemberClients, acting_as
from fleetstream.aws.metrics import counted_refresh, instrument_session
from fleetstream.aws.ratelimit import TokenBuckets
from fleetstream.base.config import AwsSettings, Settings
from fleetstream.kafka.auth import resolve_secret


class _Lru:
    """A least-recently-used map (cachetools'), so caches stay bounded however large the estate."""

    def __init__(self, capacity: int) -> None:
        self._items: LRUCache[Hashable, Any] = LRUCache(capacity)

    def get_or_create(self, key: Hashable, create: Callable[[], Any]) -> Any:
        value = self._items.get(key)  # a hit becomes the most recently used
        if value is None:
            value = self._items[key] = create()
        return value

    def drop(self, predicate: Callable[[Hashable], bool]) -> None:
        for key in [k for k in self._items if predicate(k)]:
            del self._items[key]


class AwsClients:
    """Hub clients, and member-account clients sharing one botocore client per (region, service).

    Creating a botocore client is the describer's biggest cost (its event hooks, client class
    and endpoint are built anew each time) and each one holds megabytes, so member clients are
    not built per account: `member()` returns a view of the (region, service) client whose
    calls are signed with that account's credentials (see fleetstream.aws.member_clients). Member
    credentials come from STS AssumeRole once per account and are refreshed by botocore shortly
    before they expire, so a sweep makes one STS call per account, not one per page. Both
    caches are LRU-bounded, so memory does not grow with the number of accounts.
    """

    def __init__(self, settings: AwsSettings) -> None:
        self._settings = settings
        self._core = new_session()
        instrument_session(self._core)
        self._hub = boto3.Session(botocore_session=self._core, region_name=settings.region)
        self._config = Config(
            retries={"mode": "adaptive", "total_max_attempts": settings.max_attempts},
            connect_timeout=settings.connect_timeout_s,
            read_timeout=settings.read_timeout_s,
            max_pool_connections=64,
        )
        # Adaptive mode's client-side rate limiter belongs to a client; on a client shared by
        # every account one account's throttling would slow all the others. The budget below
        # rates each (account, region, service) instead; botocore still retries throttles.
        member_config = self._config.merge(
            Config(retries={"mode": "standard", "total_max_attempts": settings.max_attempts})
        )
        self._budget = TokenBuckets(settings.rate_per_s, settings.rate_burst)
        self._members = SharedMemberClients(
            settings.region, settings.endpoint_url, member_config, self._spend_budget
        )
        self._lock = threading.Lock()
        self._credentials = _Lru(settings.max_cached_accounts)
        # Evicted clients are left to the garbage collector: closing one could cut a request
        # another thread still has in flight.
        self._clients = _Lru(settings.max_cached_clients)

    @property
    def endpoint_url(self) -> str | None:
        return self._settings.endpoint_url

    @functools.cached_property
    def _external_id(self) -> str | None:
        """aws.external_id's value, read once, when the first member account is assumed."""
        source = self._settings.external_id
        return None if source is None else resolve_secret(source, "external_id", "aws")

    def hub(self, service: str, region: str | None = None) -> Any:
        """A client acting as the hub (the identity fleetstream itself runs as)."""
        region = region or self._settings.region

        def create() -> Any:
            return self._hub.client(
                service,  # type: ignore[call-overload]
                region_name=region,
                endpoint_url=self._settings.endpoint_url,
                config=self._config,
            )

        with self._lock:
            return self._clients.get_or_create(("hub", region, service), create)

    def member(self, account_id: str, region: str, service: str) -> Any:
        """A client acting inside a member account through its fleetstream role."""
        with self._lock:
            credentials = self._credentials.get_or_create(
                account_id, lambda: self._member_credentials(account_id)
            )
            shared = self._clients.get_or_create(
                (MEMBERS, region, service), lambda: self._members.create(region, service)
            )
        return acting_as(shared, Member(account_id, credentials))

    def forget(self, account_id: str) -> None:
        """Drop an account's cached credentials (e.g. after its role changed or expired)."""
        with self._lock:
            self._credentials.drop(lambda key: key == account_id)

    def _member_credentials(self, account_id: str) -> DeferredRefreshableCredentials:
        """The account's role credentials: assumed on first use, refreshed before expiry."""
        return DeferredRefreshableCredentials(
            refresh_using=counted_refresh(functools.partial(self._assume_role, account_id)),
            method="assume-role",
        )

    def _assume_role(self, account_id: str) -> dict[str, str]:
        """AssumeRole as the hub, in the format botocore's refreshable credentials expect."""
        extra: dict[str, Any] = {}
        if self._external_id is not None:
            extra["ExternalId"] = self._external_id
        response = self.hub("sts").assume_role(
            RoleArn=self._settings.member_role_arn(account_id),
            RoleSessionName=self._settings.role_session_name,
            **extra,
        )
        issued = response["Credentials"]
        return {
            "access_key": issued["AccessKeyId"],
            "secret_key": issued["SecretAccessKey"],
            "token": issued["SessionToken"],
            "expiry_time": issued["Expiration"].isoformat(),
        }

    def _spend_budget(self, account_id: str, region: str, service: str) -> None:
        """Wait for a token of (account, region, service) before each member call."""
        self._budget.acquire((account_id, region, service))


def dynamodb_client(settings: Settings) -> Any:
    """The DynamoDB client of the inventory tables (DynamoDB Local when an endpoint is set)."""
    core = new_session()
    instrument_session(core)
    session = boto3.Session(botocore_session=core, region_name=settings.aws.region)
    return session.client(
        "dynamodb",
        endpoint_url=settings.sink.dynamodb_endpoint or settings.aws.endpoint_url,
        config=Config(
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=settings.aws.connect_timeout_s,
            read_timeout=settings.aws.read_timeout_s,
            max_pool_connections=32,
        ),
    )
