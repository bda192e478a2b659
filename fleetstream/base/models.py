"""Typed messages exchanged between the groups; their wire form is in schemas/."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache

GLOBAL_REGION = "global"
# A deliberate offset of this process's clock, in seconds: how the tests run a planner or a
# describer whose clock is wrong. Never set in production.
CLOCK_OFFSET_ENV = "FLEETSTREAM_CLOCK_OFFSET_S"


@cache
def clock_offset() -> timedelta:
    """The injected clock offset of this process (read once, on first use); 0 unless set."""
    raw = os.environ.get(CLOCK_OFFSET_ENV, "").strip()
    return timedelta(seconds=float(raw)) if raw else timedelta(0)


def utc_now() -> datetime:
    """Now, timezone-aware, truncated to milliseconds (the wire precision)."""
    now = datetime.now(UTC) + clock_offset()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass(frozen=True, slots=True)
class ShardKey:
    """(account, region, resource type): the unit of work, of progress and of deletion."""

    account_id: str
    region: str
    resource_type: str

    def __str__(self) -> str:
        return f"{self.account_id}/{self.region}/{self.resource_type}"

    @classmethod
    def parse(cls, text: str) -> ShardKey:
        """Inverse of str(): 'account/region/type'."""
        account_id, region, resource_type = text.split("/", 2)
        return cls(account_id, region, resource_type)


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One page of one shard to describe."""

    sweep_id: str
    account_id: str
    region: str
    resource_type: str
    shard_started_at: datetime
    issued_at: datetime
    account_name: str = ""
    page_token: Mapping[str, object] | None = None
    page_number: int = 0
    resources_so_far: int = 0
    attempt: int = 0
    not_before: datetime | None = None
    last_error: str | None = None
    # A targeted refresh: only these ids; it never completes (and so never deletes in) a shard.
    resource_ids: tuple[str, ...] | None = None
    triggered_at: datetime | None = None  # the oldest AWS event a refresh answers
    # The shard's start on the clock of the describer that took its first page: the only
    # start a deletion compares observation times with (both come from describers' clocks).
    described_from: datetime | None = None

    @property
    def shard(self) -> ShardKey:
        return ShardKey(self.account_id, self.region, self.resource_type)

    @property
    def targeted(self) -> bool:
        """A refresh of some ids, not a sweep's page."""
        return self.resource_ids is not None

    @property
    def budget_key(self) -> str:
        """account/region: the work topic's key, so one describer owns an account-region's
        rate budget at a time."""
        return f"{self.account_id}/{self.region}"

    def page_token_json(self) -> str | None:
        """The token as it travels on the wire."""
        return None if self.page_token is None else json.dumps(self.page_token, sort_keys=True)


@dataclass(frozen=True, slots=True)
class Observation:
    """One resource as described at one moment."""

    arn: str
    account_id: str
    region: str
    resource_type: str
    resource_id: str
    attributes_json: str
    observed_at: datetime
    sweep_id: str
    account_name: str = ""
    name: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def shard(self) -> ShardKey:
        return ShardKey(self.account_id, self.region, self.resource_type)


class ShardStatus(StrEnum):
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    # The account is suspended or closed: its resources are marked as such, never deleted.
    ACCOUNT_GONE = "ACCOUNT_GONE"


@dataclass(frozen=True, slots=True)
class ShardOutcome:
    """A shard finished: all pages described, or given up with a reason."""

    sweep_id: str
    account_id: str
    region: str
    resource_type: str
    status: ShardStatus
    resource_count: int
    pages: int
    shard_started_at: datetime
    finished_at: datetime
    account_name: str = ""
    error_code: str | None = None
    reason: str | None = None
    # Carried from the work items (see WorkItem.described_from); None: nothing may be deleted.
    described_from: datetime | None = None

    @property
    def shard(self) -> ShardKey:
        return ShardKey(self.account_id, self.region, self.resource_type)


ResourceEvent = Observation | ShardOutcome
