"""The only place that builds AWS clients: hub clients and member-account clients via AssumeRole."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

from fleetstream.config import AwsSettings, Settings


class AwsClients:
    """Caches one client per (account, region, service); credentials refresh themselves.

    Member credentials come from STS AssumeRole once per account and are refreshed by botocore
    shortly before they expire, so a sweep makes one STS call per account, not one per page.
    """

    def __init__(self, settings: AwsSettings, *, hub_session: boto3.Session | None = None) -> None:
        self._settings = settings
        self._hub = hub_session or boto3.Session(region_name=settings.region)
        self._config = Config(
            retries={"mode": "standard", "max_attempts": settings.max_attempts},
            connect_timeout=settings.connect_timeout_s,
            read_timeout=settings.read_timeout_s,
            max_pool_connections=64,
        )
        self._lock = threading.Lock()
        self._sessions: dict[str, boto3.Session] = {}
        self._clients: dict[tuple[str, str, str], BaseClient] = {}

    @property
    def endpoint_url(self) -> str | None:
        return self._settings.endpoint_url

    def hub(self, service: str, region: str | None = None) -> Any:
        """A client acting as the hub (the identity fleetstream itself runs as)."""
        return self._client(self._hub, "hub", region or self._settings.region, service)

    def member(self, account_id: str, region: str, service: str) -> Any:
        """A client acting inside a member account through its fleetstream role."""
        with self._lock:
            session = self._sessions.get(account_id)
            if session is None:
                session = self._member_session(account_id)
                self._sessions[account_id] = session
        return self._client(session, account_id, region, service)

    def forget(self, account_id: str) -> None:
        """Drop an account's cached credentials and clients (e.g. after its role changed)."""
        with self._lock:
            self._sessions.pop(account_id, None)
            for key in [key for key in self._clients if key[0] == account_id]:
                del self._clients[key]

    def _client(self, session: boto3.Session, owner: str, region: str, service: str) -> Any:
        key = (owner, region, service)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = session.client(
                    service,  # type: ignore[call-overload]
                    region_name=region,
                    endpoint_url=self._settings.endpoint_url,
                    config=self._config,
                )
                self._clients[key] = client
        return client

    def _member_session(self, account_id: str) -> boto3.Session:
        settings = self._settings
        extra: dict[str, Any] = {"RoleSessionName": settings.role_session_name}
        if settings.external_id is not None:
            extra["ExternalId"] = settings.external_id.get_secret_value()
        fetcher = AssumeRoleCredentialFetcher(
            client_creator=self._sts_client_creator,
            source_credentials=self._hub.get_credentials(),
            role_arn=settings.member_role_arn(account_id),
            extra_args=extra,
        )
        credentials = DeferredRefreshableCredentials(
            refresh_using=fetcher.fetch_credentials, method="assume-role"
        )
        core = botocore.session.Session()
        # botocore has no public setter; this is how its own assume-role provider does it.
        core._credentials = credentials  # type: ignore[attr-defined]
        return boto3.Session(botocore_session=core, region_name=settings.region)

    def _sts_client_creator(self, service: str, **kwargs: Any) -> BaseClient:
        kwargs.setdefault("endpoint_url", self._settings.endpoint_url)
        kwargs.setdefault("region_name", self._settings.region)
        kwargs.setdefault("config", self._config)
        client: BaseClient = self._hub.client(service, **kwargs)  # type: ignore[call-overload]
        return client


def dynamodb_client(settings: Settings) -> Any:
    """The DynamoDB client of the inventory tables (DynamoDB Local when an endpoint is set)."""
    session = boto3.Session(region_name=settings.aws.region)
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
