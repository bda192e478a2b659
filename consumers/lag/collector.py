"""One poll of the watched groups: committed offsets, watermarks, oldest unread record, status."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import LRUCache
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient

from consumers.lag.status import (
    PartitionSample,
    Rules,
    Status,
    group_status,
    partition_status,
    trim,
)
from fleetstream.kafka import admin as kafka_admin
from fleetstream.kafka.admin import CAUGHT_UP, TP, GroupInfo, Offsets, pending_records

log = logging.getLogger(__name__)

Key = tuple[str, str, int]  # group, topic, partition


@dataclass(frozen=True, slots=True)
class PartitionView:
    """What the exporter reports for one group on one partition."""

    group: str
    topic: str
    partition: int
    offsets: Offsets
    sample: PartitionSample
    status: Status


@dataclass(frozen=True, slots=True)
class GroupView:
    """What the exporter reports for one group."""

    info: GroupInfo
    partitions: tuple[PartitionView, ...]

    @property
    def committed(self) -> bool:
        """The group has a committed offset on at least one partition."""
        return any(p.sample.committed is not None for p in self.partitions)

    @property
    def status(self) -> Status:
        return group_status(p.status for p in self.partitions)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The result of one poll."""

    at: float
    groups: tuple[GroupView, ...] = ()


@dataclass
class Watch:
    """Which groups to watch: exact ids, and those starting with a prefix (at most max_groups)."""

    groups: tuple[str, ...] = ()
    prefix: str | None = None
    max_groups: int = 50


class LagCollector:
    """Polls Kafka for the watched groups and keeps each partition's sliding window."""

    def __init__(
        self,
        admin: AdminClient,
        reader: Consumer,
        watch: Watch,
        rules: Rules,
        *,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.admin = admin
        self.reader = reader
        self.watch = watch
        self.rules = rules
        self.timeout_s = timeout_s
        self.clock = clock
        self._history: dict[Key, list[PartitionSample]] = {}
        # (topic, partition, offset) -> record timestamp: a record never changes.
        self._timestamps: LRUCache[tuple[str, int, int], float] = LRUCache(10_000)

    def groups(self) -> list[str]:
        """The configured groups plus those with the prefix, capped at max_groups."""
        wanted = list(dict.fromkeys(self.watch.groups))
        if self.watch.prefix is not None:
            found = kafka_admin.list_groups(self.admin, self.watch.prefix, self.timeout_s)
            wanted += [g for g in found if g not in wanted]
        if len(wanted) > self.watch.max_groups:
            log.warning(
                "%d groups match; reporting the first %d", len(wanted), self.watch.max_groups
            )
        return wanted[: self.watch.max_groups]

    def poll(self) -> Snapshot:
        """Sample every watched group once and evaluate its status."""
        groups = self.groups()
        infos = kafka_admin.describe_groups(self.admin, groups, self.timeout_s)
        committed = {
            g: kafka_admin.committed_offsets(self.admin, g, self.timeout_s) for g in groups
        }
        now = self.clock()
        tps: set[TP] = set()
        for group in groups:
            tps |= set(committed[group]) | set(infos[group].assigned)
        offsets = kafka_admin.partition_offsets(self.admin, tps, self.timeout_s)
        starts = {
            (g, t, p): committed[g].get((t, p))
            for g in groups
            for t, p in committed[g].keys() | infos[g].assigned
            if (t, p) in offsets
        }
        first = self._first_unread(starts, offsets)
        views: dict[str, list[PartitionView]] = {g: [] for g in groups}
        for key, offset in sorted(starts.items()):
            group, topic, partition = key
            ends = offsets[(topic, partition)]
            start = ends.low if offset is None else max(offset, ends.low)
            found = first.get((topic, partition, start))
            sample = PartitionSample(
                at=now,
                committed=offset,
                pending=pending_records(
                    offset, ends.low, ends.stable, caught_up=found == CAUGHT_UP
                ),
                owned=(topic, partition) in infos[group].assigned,
                oldest_unread_at=None if found in (None, CAUGHT_UP) else found,
            )
            history = self._history.setdefault(key, [])
            history.append(sample)
            trim(history, self.rules)
            status = partition_status(history, self.rules)
            views[group].append(PartitionView(group, topic, partition, ends, sample, status))
        # Partitions that left every group (topic deleted, group gone) stop being reported.
        for key in self._history.keys() - starts.keys():
            del self._history[key]
        return Snapshot(now, tuple(GroupView(infos[g], tuple(views[g])) for g in groups))

    def _first_unread(
        self, starts: dict[Key, int | None], offsets: dict[TP, Offsets]
    ) -> dict[tuple[str, int, int], float]:
        """Timestamp (or CAUGHT_UP) of the record at each lagging position, cached by offset."""
        known: dict[tuple[str, int, int], float] = {}
        missing: set[tuple[str, int, int]] = set()
        for (_group, topic, partition), offset in starts.items():
            ends = offsets[(topic, partition)]
            start = ends.low if offset is None else max(offset, ends.low)
            if start >= ends.stable:
                continue
            cached = self._timestamps.get((topic, partition, start))
            if cached is not None:
                known[(topic, partition, start)] = cached
            else:
                missing.add((topic, partition, start))
        # Two groups on one partition at different offsets need separate reads: one per round.
        while missing:
            round_: dict[TP, int] = {}
            for topic, partition, start in sorted(missing):
                round_.setdefault((topic, partition), start)
            for (topic, partition), start in round_.items():
                missing.discard((topic, partition, start))
            found = kafka_admin.first_record_timestamps(self.reader, round_, self.timeout_s)
            for (topic, partition), at in found.items():
                key = (topic, partition, round_[(topic, partition)])
                known[key] = at
                if at != CAUGHT_UP:
                    # CAUGHT_UP is not cached: a record may be appended at that offset later.
                    self._timestamps[key] = at
        return known
