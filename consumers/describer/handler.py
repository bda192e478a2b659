"""The describer's pure handler: one work item in, one page of observations and what follows out."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from fleetstream.aws.clients import AwsClients
from fleetstream.aws.errors import ErrorKind, classify, error_code, shard_failure
from fleetstream.base.continuous_metrics import REFRESHES_DROPPED
from fleetstream.base.errors import PoisonMessageError, ShardFailedError
from fleetstream.base.metrics import DETAIL_CALLS_REFUSED
from fleetstream.base.models import (
    GLOBAL_REGION,
    Observation,
    ShardOutcome,
    ShardStatus,
    WorkItem,
    utc_now,
)
from fleetstream.base.retry import RetryPolicy
from fleetstream.catalog import CatalogEntry
from fleetstream.catalog.details import refused_calls
from fleetstream.catalog.engine import fetch_page, observe

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DescribeResult:
    """What one page produces: observations and the next page, or the shard's outcome, or
    the same page again later (retry)."""

    observations: list[Observation] = field(default_factory=list)
    next_item: WorkItem | None = None
    outcome: ShardOutcome | None = None
    retry: WorkItem | None = None


# A refresh right after a create event can race EC2's eventual consistency
# (InvalidInstanceID.NotFound for an instance RunInstances just returned): retry a few times.
NOT_VISIBLE_RETRIES = 3


def _not_visible_yet(item: WorkItem, error: ClientError | BotoCoreError) -> bool:
    return (
        item.targeted
        and isinstance(error, ClientError)
        and "NotFound" in error_code(error)
        and item.attempt < NOT_VISIBLE_RETRIES
    )


class Describer:
    """Describes one page of one shard with the member account's credentials."""

    def __init__(
        self,
        clients: AwsClients,
        catalog: Mapping[str, CatalogEntry],
        *,
        page_size: int,
        role_arn_of: Callable[[str], str],
        redaction_key: bytes,
        retry: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._clients = clients
        self._catalog = catalog
        self._page_size = page_size
        self._role_arn_of = role_arn_of
        self._redaction_key = redaction_key
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._jitter = jitter

    def handle(self, item: WorkItem) -> DescribeResult:
        """Describe the page item points at; AWS failures end the shard as FAILED."""
        entry = self._catalog.get(item.resource_type)
        if entry is None:
            raise PoisonMessageError(f"resource type {item.resource_type!r} is not in the catalog")
        if item.targeted and entry.refresh is None:
            raise PoisonMessageError(f"resource type {item.resource_type!r} has no refresh")
        region = self._clients_region(entry, item.region)
        item = self._with_start(item)
        try:
            client = self._clients.member(item.account_id, region, entry.service)
            page = fetch_page(client, entry, item.page_token, self._page_size, item.resource_ids)
        except (ClientError, BotoCoreError) as error:
            kind = classify(error)
            if kind in {ErrorKind.THROTTLED, ErrorKind.TRANSIENT} or _not_visible_yet(item, error):
                return self._retry_later(item, error, kind)
            return self._failed(item, shard_failure(error, self._role_arn_of(item.account_id)))
        self._count_refused(item, page.items)
        observed_at = self._clock()
        observations = [
            observe(
                entry,
                raw,
                account_id=item.account_id,
                account_name=item.account_name,
                region=item.region,
                sweep_id=item.sweep_id,
                observed_at=observed_at,
                redaction_key=self._redaction_key,
            )
            for raw in page.items
        ]
        total = item.resources_so_far + len(observations)
        if page.next_token is not None:
            next_item = WorkItem(
                sweep_id=item.sweep_id,
                account_id=item.account_id,
                account_name=item.account_name,
                region=item.region,
                resource_type=item.resource_type,
                page_token=page.next_token,
                page_number=item.page_number + 1,
                resources_so_far=total,
                shard_started_at=item.shard_started_at,
                issued_at=observed_at,
                resource_ids=item.resource_ids,
                triggered_at=item.triggered_at,
                described_from=item.described_from,
            )
            return DescribeResult(observations=observations, next_item=next_item)
        if item.targeted:
            # A refresh saw only some ids: it must never complete (and delete in) the shard.
            return DescribeResult(observations=observations)
        outcome = self._outcome(item, ShardStatus.COMPLETE, total)
        return DescribeResult(observations=observations, outcome=outcome)

    def _count_refused(self, item: WorkItem, raws: list[dict[str, Any]]) -> None:
        """Count (and say once per page) the items kept without a detail AWS refused."""
        refused: Counter[tuple[str, str]] = Counter()
        for raw in raws:
            refused.update(refused_calls(raw).items())
        for (operation, code), count in refused.items():
            DETAIL_CALLS_REFUSED.labels(item.resource_type, operation, code).inc(count)
        if refused:
            log.warning(
                "%s page %d: %s kept without the refused detail (marked), %s",
                item.shard,
                item.page_number,
                sum(refused.values()),
                ", ".join(f"{op}: {code} x{n}" for (op, code), n in sorted(refused.items())),
            )

    def _with_start(self, item: WorkItem) -> WorkItem:
        """The item with its shard's start measured here, when this is the shard's first page.

        Taken before the first page is fetched, on this describer's clock, like every
        observation time: deletion compares the two and never the planner's clock. Later
        pages, retries and the outcome carry it; an item from before work_item v4 has none,
        and its outcome then deletes nothing.
        """
        first_page = item.page_token is None and item.page_number == 0
        if item.described_from is not None or not first_page or item.targeted:
            return item
        return replace(item, described_from=self._clock())

    def _retry_later(
        self, item: WorkItem, error: ClientError | BotoCoreError, kind: ErrorKind
    ) -> DescribeResult:
        """The same page again after a backoff, unless the page or shard is out of time."""
        if isinstance(error, ClientError) and error_code(error) == "ExpiredToken":
            self._clients.forget(item.account_id)
        now = self._clock()
        attempt = item.attempt + 1
        elapsed = (now - item.shard_started_at).total_seconds()
        summary = f"{kind.value}: {error}"[:500]
        if attempt >= self._retry.max_attempts or elapsed >= self._retry.shard_deadline_s:
            code = "Throttled" if kind is ErrorKind.THROTTLED else "Unavailable"
            reason = f"gave up after {attempt} attempts in {elapsed:.0f}s: {summary}"
            return self._failed(item, ShardFailedError(code, reason))
        delay = self._retry.backoff_s(item.attempt, self._jitter())
        retry = replace(
            item,
            attempt=attempt,
            not_before=now + timedelta(seconds=delay),
            last_error=summary,
            issued_at=now,
        )
        return DescribeResult(retry=retry)

    def _clients_region(self, entry: CatalogEntry, region: str) -> str:
        # Global services are called through their home region.
        return "us-east-1" if entry.global_resource or region == GLOBAL_REGION else region

    def _failed(self, item: WorkItem, failure: ShardFailedError) -> DescribeResult:
        if item.targeted:
            # The next sweep covers these ids; a failed refresh must not mark the shard FAILED.
            REFRESHES_DROPPED.labels(item.resource_type, failure.error_code).inc()
            log.warning("refresh of %s %s dropped: %s", item.shard, item.resource_ids, failure)
            return DescribeResult()
        outcome = self._outcome(
            item, ShardStatus.FAILED, item.resources_so_far, failure.error_code, failure.reason
        )
        return DescribeResult(outcome=outcome)

    def _outcome(
        self,
        item: WorkItem,
        status: ShardStatus,
        count: int,
        error_code: str | None = None,
        reason: str | None = None,
    ) -> ShardOutcome:
        return _shard_outcome(item, status, count, self._clock(), error_code, reason)


# The error code of a shard whose page went to the DLQ (not an AWS error: poison, a bug).
DEAD_LETTERED = "DeadLettered"


def dead_lettered_outcome(
    item: WorkItem, error: BaseException, finished_at: datetime
) -> ShardOutcome | None:
    """The outcome of a sweep page that went to the DLQ: FAILED with the reason, so the shard
    ends instead of waiting forever. None for a refresh: the next sweep covers its ids, and a
    refresh never ends a shard."""
    if item.targeted:
        return None
    reason = f"page {item.page_number} went to the DLQ: {type(error).__name__}: {error}"[:1000]
    return _shard_outcome(
        item, ShardStatus.FAILED, item.resources_so_far, finished_at, DEAD_LETTERED, reason
    )


def _shard_outcome(
    item: WorkItem,
    status: ShardStatus,
    count: int,
    finished_at: datetime,
    error_code: str | None,
    reason: str | None,
) -> ShardOutcome:
    return ShardOutcome(
        sweep_id=item.sweep_id,
        account_id=item.account_id,
        account_name=item.account_name,
        region=item.region,
        resource_type=item.resource_type,
        status=status,
        resource_count=count,
        pages=item.page_number + 1,
        shard_started_at=item.shard_started_at,
        finished_at=finished_at,
        error_code=error_code,
        reason=reason,
        described_from=item.described_from,
    )
