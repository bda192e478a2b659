"""The only place that builds AWS clients: hub clients and member-account clients via AssumeRole."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import boto3
import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

from fleetstream.aws.metrics import counted_refresh, instrument_session
from fleetstream.aws.ratelimit import TokenBuckets
from fleetstream.base.config import AwsSettings, Settings
from fleetstream.kafka.auth import resolve_secret


class _Lru:
    """A small least-recently-used map, so caches stay bounded however large the estate."""

    def __init__(self, capacity: int) -> None:
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._capacity = capacity

    def get_or_create(self, key: Hashable, create: Callable[[], Any]) -> Any:
        value = self._items.get(key)
        if value is None:
            value = create()
            self._items[key] = value
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(key)
        return value

    def drop(self, predicate: Callable[[Hashable], bool]) -> None:
        for key in [k for k in self._items if predicate(k)]:
            del self._items[key]


class AwsClients:
    """Caches clients per (account, region, service); credentials refresh themselves.

    Member credentials come from STS AssumeRole once per account and are refreshed by botocore
    shortly before they expire, so a sweep makes one STS call per account, not one per page.
    Both caches are LRU-bounded and every account shares one botocore data loader, so memory
    does not grow with the number of accounts.
    """

    def __init__(self, settings: AwsSettings) -> None:
        self._settings = settings
        self._core = botocore.session.get_session()
        instrument_session(self._core)
        self._hub = boto3.Session(botocore_session=self._core, region_name=settings.region)
        self._config = Config(
            retries={"mode": "adaptive", "total_max_attempts": settings.max_attempts},
            connect_timeout=settings.connect_timeout_s,
            read_timeout=settings.read_timeout_s,
            max_pool_connections=64,
        )
        self._budget = TokenBuckets(settings.rate_per_s, settings.rate_burst)
        self._lock = threading.Lock()
        self._sessions = _Lru(settings.max_cached_accounts)
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
        return self._client(self._hub, "hub", region or self._settings.region, service)

    def member(self, account_id: str, region: str, service: str) -> Any:
        """A client acting inside a member account through its fleetstream role."""
        with self._lock:
            session = self._sessions.get_or_create(
                account_id, lambda: self._member_session(account_id)
            )
        return self._client(session, account_id, region, service)

    def forget(self, account_id: str) -> None:
        """Drop an account's cached credentials and clients (e.g. after its role changed)."""
        with self._lock:
            self._sessions.drop(lambda key: key == account_id)
            self._clients.drop(lambda key: isinstance(key, tuple) and key[0] == account_id)

    def _client(self, session: boto3.Session, owner: str, region: str, service: str) -> Any:
        def create() -> Any:
            return session.client(
                service,  # type: ignore[call-overload]
                region_name=region,
                endpoint_url=self._settings.endpoint_url,
                config=self._config,
            )

        with self._lock:
            return self._clients.get_or_create((owner, region, service), create)

    def _member_session(self, account_id: str) -> boto3.Session:
        settings = self._settings
        extra: dict[str, Any] = {"RoleSessionName": settings.role_session_name}
        if self._external_id is not None:
            extra["ExternalId"] = self._external_id
        fetcher = AssumeRoleCredentialFetcher(
            client_creator=self._sts_client_creator,
            source_credentials=self._hub.get_credentials(),
            role_arn=settings.member_role_arn(account_id),
            extra_args=extra,
        )
        credentials = DeferredRefreshableCredentials(
            refresh_using=counted_refresh(fetcher.fetch_credentials), method="assume-role"
        )
        core = botocore.session.Session()
        instrument_session(core, account=account_id)
        # Service models are large; load them once per process, not once per account.
        core.register_component("data_loader", self._core.get_component("data_loader"))
        core.register("before-call", functools.partial(self._spend_budget, account_id))
        # botocore has no public setter; this is how its own assume-role provider does it.
        core._credentials = credentials  # type: ignore[attr-defined]
        return boto3.Session(botocore_session=core, region_name=settings.region)

    def _spend_budget(self, account_id: str, model: Any, request_signer: Any, **_: Any) -> None:
        """before-call hook: wait for a token of (account, region, service)."""
        service = model.service_model.service_name
        self._budget.acquire((account_id, request_signer.region_name, service))

    def _sts_client_creator(self, service: str, **kwargs: Any) -> BaseClient:
        kwargs.setdefault("endpoint_url", self._settings.endpoint_url)
        kwargs.setdefault("region_name", self._settings.region)
        kwargs.setdefault("config", self._config)
        client: BaseClient = self._hub.client(service, **kwargs)  # type: ignore[call-overload]
        return client


def dynamodb_client(settings: Settings) -> Any:
    """The DynamoDB client of the inventory tables (DynamoDB Local when an endpoint is set)."""
    core = botocore.session.get_session()
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
