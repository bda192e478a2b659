"""The planner: the one place that fans out account x region x resource type into shards."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from fleetstream.aws.accounts import Account
from fleetstream.aws.clients import AwsClients
from fleetstream.aws.errors import shard_failure
from fleetstream.base.config import RegionSettings, Settings
from fleetstream.base.errors import ShardFailedError
from fleetstream.base.models import GLOBAL_REGION, ShardOutcome, ShardStatus, WorkItem, utc_now
from fleetstream.catalog import CatalogEntry

log = logging.getLogger(__name__)

ALL_REGIONS = "*"  # region of an account-level failure, when the regions are unknown


def new_sweep_id(now: datetime | None = None) -> str:
    """A sortable, unique sweep id."""
    now = now or utc_now()
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class AccountRegions:
    """The regions of one account to sweep, or why none can be."""

    account: Account
    regions: tuple[str, ...]
    failure: ShardFailedError | None = None


def discover_regions(
    clients: AwsClients, account: Account, settings: RegionSettings, role_arn: str, home: str
) -> AccountRegions:
    """Enabled regions of an account (opt-in respected), after include/exclude."""
    if not account.active:
        return AccountRegions(account, ())
    try:
        ec2 = clients.member(account.id, home, "ec2")
        response = ec2.describe_regions(AllRegions=True)
    except (ClientError, BotoCoreError) as exc:
        return AccountRegions(account, (), shard_failure(exc, role_arn))
    enabled = {
        r["RegionName"]
        for r in response["Regions"]
        if r.get("OptInStatus", "opt-in-not-required") != "not-opted-in"
    }
    if settings.include:
        enabled &= set(settings.include)
    enabled -= set(settings.exclude)
    return AccountRegions(account, tuple(sorted(enabled)))


class Planner:
    """Turns the estate into the first-page work items of one sweep."""

    def __init__(self, settings: Settings, clients: AwsClients, entries: Sequence[CatalogEntry]):
        self._settings = settings
        self._clients = clients
        self._entries = entries

    def discover(self, accounts: Sequence[Account]) -> list[AccountRegions]:
        """Regions of every account, looked up concurrently (one STS + one EC2 call each)."""
        aws = self._settings.aws
        with ThreadPoolExecutor(max_workers=16, thread_name_prefix="regions") as pool:
            return list(
                pool.map(
                    lambda a: discover_regions(
                        self._clients,
                        a,
                        self._settings.regions,
                        aws.member_role_arn(a.id),
                        aws.region,
                    ),
                    accounts,
                )
            )

    def plan(
        self, sweep_id: str, estate: Sequence[AccountRegions], now: datetime | None = None
    ) -> Iterator[WorkItem | ShardOutcome]:
        """First-page work items; FAILED outcomes for accounts whose regions are unknown."""
        now = now or utc_now()
        for found in estate:
            for entry in self._entries:
                regions = (GLOBAL_REGION,) if entry.global_resource else found.regions
                if not found.account.active:
                    yield self._gone(sweep_id, found.account, entry, now)
                    continue
                if found.failure is not None:
                    yield from self._failed(sweep_id, found, entry, now)
                    continue
                for region in regions:
                    yield WorkItem(
                        sweep_id=sweep_id,
                        account_id=found.account.id,
                        account_name=found.account.name,
                        region=region,
                        resource_type=entry.type_name,
                        shard_started_at=now,
                        issued_at=now,
                    )

    def _gone(
        self, sweep_id: str, account: Account, entry: CatalogEntry, now: datetime
    ) -> ShardOutcome:
        # Not swept: the sink deletes its resources with reason account_gone (a DELETED
        # change each) and marks them, so they are neither silently kept nor silently dropped.
        return ShardOutcome(
            sweep_id=sweep_id,
            account_id=account.id,
            account_name=account.name,
            region=ALL_REGIONS,
            resource_type=entry.type_name,
            status=ShardStatus.ACCOUNT_GONE,
            resource_count=0,
            pages=0,
            shard_started_at=now,
            finished_at=now,
            error_code=f"Account{account.status.title().replace('_', '')}",
            reason=f"account is {account.status} in AWS Organizations",
        )

    def _failed(
        self, sweep_id: str, found: AccountRegions, entry: CatalogEntry, now: datetime
    ) -> Iterator[ShardOutcome]:
        assert found.failure is not None
        # With an explicit region list the failed shards are known exactly; otherwise one
        # account-level failure stands for all of the account's regions.
        regions = (
            (GLOBAL_REGION,)
            if entry.global_resource
            else (self._settings.regions.include or (ALL_REGIONS,))
        )
        for region in regions:
            yield ShardOutcome(
                sweep_id=sweep_id,
                account_id=found.account.id,
                account_name=found.account.name,
                region=region,
                resource_type=entry.type_name,
                status=ShardStatus.FAILED,
                resource_count=0,
                pages=0,
                shard_started_at=now,
                finished_at=now,
                error_code=found.failure.error_code,
                reason=found.failure.reason,
            )
