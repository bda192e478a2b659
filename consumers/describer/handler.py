"""The describer's pure handler: one work item in, one page of observations and what follows out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from fleetstream.aws import AwsClients
from fleetstream.aws_errors import shard_failure
from fleetstream.catalog import CatalogEntry
from fleetstream.catalog.engine import fetch_page, observe
from fleetstream.errors import PoisonMessageError, ShardFailedError
from fleetstream.models import (
    GLOBAL_REGION,
    Observation,
    ShardOutcome,
    ShardStatus,
    WorkItem,
    utc_now,
)


@dataclass(frozen=True, slots=True)
class DescribeResult:
    """What one page produces: observations, then either the next page or the shard outcome."""

    observations: list[Observation] = field(default_factory=list)
    next_item: WorkItem | None = None
    outcome: ShardOutcome | None = None


class Describer:
    """Describes one page of one shard with the member account's credentials."""

    def __init__(
        self,
        clients: AwsClients,
        catalog: Mapping[str, CatalogEntry],
        *,
        page_size: int,
        role_arn_of: Callable[[str], str],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._clients = clients
        self._catalog = catalog
        self._page_size = page_size
        self._role_arn_of = role_arn_of
        self._clock = clock

    def handle(self, item: WorkItem) -> DescribeResult:
        """Describe the page item points at; AWS failures end the shard as FAILED."""
        entry = self._catalog.get(item.resource_type)
        if entry is None:
            raise PoisonMessageError(f"resource type {item.resource_type!r} is not in the catalog")
        region = self._clients_region(entry, item.region)
        try:
            client = self._clients.member(item.account_id, region, entry.service)
            page = fetch_page(client, entry, item.page_token, self._page_size)
        except (ClientError, BotoCoreError) as error:
            return self._failed(item, shard_failure(error, self._role_arn_of(item.account_id)))
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
            )
            return DescribeResult(observations=observations, next_item=next_item)
        outcome = self._outcome(item, ShardStatus.COMPLETE, total)
        return DescribeResult(observations=observations, outcome=outcome)

    def _clients_region(self, entry: CatalogEntry, region: str) -> str:
        # Global services are called through their home region.
        return "us-east-1" if entry.global_resource or region == GLOBAL_REGION else region

    def _failed(self, item: WorkItem, failure: ShardFailedError) -> DescribeResult:
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
            finished_at=self._clock(),
            error_code=error_code,
            reason=reason,
        )
