"""Coalescing: many events for the same resources within a window become one describe."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from cachetools import FIFOCache

from fleetstream.base.models import WorkItem, utc_now
from fleetstream.catalog import CatalogEntry
from producers.events.routes import Target

ShardOf = tuple[str, str, str]  # account, region, resource type
# (type, account, region, id) -> the newest event time a refresh covers.
Covered = dict[tuple[str, str, str, str], datetime]


class Added(NamedTuple):
    """What one event's target added to the window."""

    new: int  # ids neither pending nor covered: this window refreshes them
    shed: int  # ids left out because the account spent its budget for the window


@dataclass(slots=True)
class _Pending:
    ids: dict[str, datetime] = field(default_factory=dict)  # id -> newest event time
    oldest: datetime | None = None


class Coalescer:
    """Collects the targets of a window's events; drains them as refresh work items.

    An event is a duplicate when an earlier refresh already covered a newer-or-equal event
    for the same resource: that refresh was issued after the newer event arrived, so what
    it describes includes this change too. Only AWS event times are compared (no clock skew).

    Each account may add at most account_budget ids to a window; the rest are shed, so one
    account's flood cannot crowd out the others (the next sweep covers what was shed).
    """

    def __init__(
        self,
        catalog: Mapping[str, CatalogEntry],
        window_s: float,
        remembered: int,
        clock: Callable[[], float] = time.monotonic,
        account_budget: int | None = None,
    ) -> None:
        self._catalog = catalog
        self._window_s = window_s
        self._remembered = remembered
        self._account_budget = account_budget
        self._per_account: Counter[str] = Counter()  # ids pending per account this window
        self._clock = clock
        self._pending: dict[ShardOf, _Pending] = {}
        self._opened_at: float | None = None
        # Oldest written forgotten first; a read does not refresh (FIFO, a write re-queues).
        self._covered: FIFOCache[tuple[str, str, str, str], datetime] = FIFOCache(
            max(remembered, 1)
        )

    @property
    def empty(self) -> bool:
        return not self._pending

    def add(self, target: Target, event_time: datetime) -> Added:
        """Add an event's target: how many of its ids are new to the window, how many shed."""
        shard = (target.account_id, target.region, target.resource_type)
        added = shed = 0
        for resource_id in target.ids:
            covered = self._covered.get((*_type_first(shard), resource_id))
            if covered is not None and event_time <= covered:
                continue
            pending = self._pending.get(shard)
            newest = None if pending is None else pending.ids.get(resource_id)
            if newest is None and self._spent(target.account_id):
                shed += 1
                continue
            pending = self._pending.setdefault(shard, _Pending())
            pending.ids[resource_id] = event_time if newest is None else max(newest, event_time)
            if pending.oldest is None or event_time < pending.oldest:
                pending.oldest = event_time
            if newest is None:
                added += 1
                self._per_account[target.account_id] += 1
        if added and self._opened_at is None:
            self._opened_at = self._clock()
        return Added(added, shed)

    def _spent(self, account_id: str) -> bool:
        budget = self._account_budget
        return budget is not None and self._per_account[account_id] >= budget

    def due(self) -> bool:
        """The window that the first pending event opened has passed."""
        return self._opened_at is not None and self._clock() - self._opened_at >= self._window_s

    def drain(self, refresh_id: str, now: datetime | None = None) -> tuple[list[WorkItem], Covered]:
        """Everything pending as work items (ids chunked per the type's limit), and what they
        cover; the pending set is emptied. Pass `covered` to confirm() once the items are
        durably produced, so a failed produce never makes later events look like duplicates.
        """
        now = now or utc_now()
        items: list[WorkItem] = []
        covered: Covered = {}
        for shard, pending in self._pending.items():
            account_id, region, resource_type = shard
            entry = self._catalog[resource_type]
            assert entry.refresh is not None and pending.oldest is not None
            ids = list(pending.ids)
            size = entry.refresh.max_ids
            for start in range(0, len(ids), size):
                items.append(
                    WorkItem(
                        sweep_id=refresh_id,
                        account_id=account_id,
                        region=region,
                        resource_type=resource_type,
                        shard_started_at=now,
                        issued_at=now,
                        resource_ids=tuple(ids[start : start + size]),
                        triggered_at=pending.oldest,
                    )
                )
            for resource_id, newest in pending.ids.items():
                covered[(*_type_first(shard), resource_id)] = newest
        self.clear()
        return items, covered

    def clear(self) -> None:
        """Forget what is pending (its events will be read again)."""
        self._pending.clear()
        self._per_account.clear()
        self._opened_at = None

    def confirm(self, covered: Covered) -> None:
        """Remember what durably produced refreshes cover (bounded, oldest forgotten first)."""
        if self._remembered == 0:
            return
        for key, newest in covered.items():
            held = self._covered.get(key)
            self._covered[key] = newest if held is None else max(held, newest)


def _type_first(shard: ShardOf) -> tuple[str, str, str]:
    account_id, region, resource_type = shard
    return resource_type, account_id, region
