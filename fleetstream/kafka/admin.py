"""Read-only Kafka admin queries of the lag exporter: groups, committed offsets, watermarks.

Nothing here joins a group or commits: offsets come from the AdminClient, and the timestamp of
the oldest unconsumed record from a plain assign()-only consumer that reads one record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import (
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    ConsumerGroupTopicPartitions,
    IsolationLevel,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

from fleetstream.base.config import KafkaSettings

# The same connection settings (bootstrap, security, logger) as every other fleetstream client.
from fleetstream.kafka.clients import client_config

log = logging.getLogger(__name__)

TP = tuple[str, int]


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A consumer group as the coordinator describes it."""

    group: str
    state: str  # STABLE, EMPTY, PREPARING_REBALANCING, COMPLETING_REBALANCING, DEAD, UNKNOWN
    members: int
    assigned: frozenset[TP]  # partitions some member owns right now


@dataclass(frozen=True, slots=True)
class Offsets:
    """Both ends of a partition: low watermark, high watermark, last stable offset."""

    low: int
    high: int
    stable: int  # read_committed end: nothing at or after it is readable yet


def admin_client(settings: KafkaSettings) -> AdminClient:
    """An AdminClient with fleetstream's connection settings."""
    return AdminClient(client_config(settings))


def fetch_consumer(settings: KafkaSettings) -> Consumer:
    """An assign()-only consumer that never commits, to read single records by offset."""
    conf = client_config(settings) | {
        # librdkafka requires a group id even for assign(); it is never joined nor committed.
        "group.id": "fleetstream-lag-exporter-reader",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "isolation.level": "read_committed",
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": 50,
        # One record is all we want; do not prefetch megabytes per partition.
        "queued.max.messages.kbytes": 1024,
        "fetch.max.bytes": 1024 * 1024,
    }
    return Consumer(conf)


def list_groups(admin: AdminClient, prefix: str, timeout_s: float) -> list[str]:
    """Ids of the consumer groups whose id starts with prefix."""
    result = admin.list_consumer_groups(request_timeout=timeout_s).result()
    return sorted(g.group_id for g in result.valid if g.group_id.startswith(prefix))


def describe_groups(
    admin: AdminClient, groups: Sequence[str], timeout_s: float
) -> dict[str, GroupInfo]:
    """State, member count and owned partitions of each group (a missing group is DEAD)."""
    if not groups:
        return {}
    futures = admin.describe_consumer_groups(list(groups), request_timeout=timeout_s)
    described: dict[str, GroupInfo] = {}
    for group, future in futures.items():
        try:
            result = future.result()
        except KafkaException as exc:
            log.warning("describe %s failed: %s", group, exc.args[0])
            described[group] = GroupInfo(group, "UNKNOWN", 0, frozenset())
            continue
        assigned = frozenset(
            (tp.topic, tp.partition)
            for member in result.members
            if member.assignment is not None
            for tp in member.assignment.topic_partitions
        )
        described[group] = GroupInfo(group, result.state.name, len(result.members), assigned)
    return described


def committed_offsets(admin: AdminClient, group: str, timeout_s: float) -> dict[TP, int]:
    """Every committed offset of a group (partitions it never committed are absent)."""
    request = [ConsumerGroupTopicPartitions(group)]
    future = admin.list_consumer_group_offsets(request, request_timeout=timeout_s)[group]
    result = future.result()
    committed: dict[TP, int] = {}
    for tp in result.topic_partitions or []:
        if tp.error is None and tp.offset >= 0:
            committed[(tp.topic, tp.partition)] = tp.offset
    return committed


def partition_offsets(admin: AdminClient, tps: Iterable[TP], timeout_s: float) -> dict[TP, Offsets]:
    """Low and high watermark and last stable offset of each partition (three batched calls)."""
    wanted = sorted(set(tps))
    if not wanted:
        return {}
    ends: dict[str, dict[TP, int]] = {}
    # OffsetSpec's factories are untyped in confluent_kafka.
    earliest: Any = OffsetSpec.earliest()  # type: ignore[no-untyped-call]
    latest: Any = OffsetSpec.latest()  # type: ignore[no-untyped-call]
    queries = (
        ("low", earliest, IsolationLevel.READ_UNCOMMITTED),
        ("high", latest, IsolationLevel.READ_UNCOMMITTED),
        # Under read_committed, "latest" is the last stable offset (first open transaction).
        ("stable", latest, IsolationLevel.READ_COMMITTED),
    )
    for name, spec, isolation in queries:
        futures = admin.list_offsets(
            {TopicPartition(t, p): spec for t, p in wanted},
            isolation_level=isolation,
            request_timeout=timeout_s,
        )
        found: dict[TP, int] = {}
        for tp, future in futures.items():
            try:
                found[(tp.topic, tp.partition)] = future.result().offset
            except KafkaException as exc:
                log.warning("list_offsets %s[%d] failed: %s", tp.topic, tp.partition, exc.args[0])
        ends[name] = found
    return {
        tp: Offsets(ends["low"][tp], ends["high"][tp], ends["stable"].get(tp, ends["high"][tp]))
        for tp in wanted
        if tp in ends["low"] and tp in ends["high"]
    }


# What first_record_timestamps reports for a partition with nothing readable at/after the offset.
CAUGHT_UP = -1.0


def first_record_timestamps(
    consumer: Consumer, positions: dict[TP, int], timeout_s: float
) -> dict[TP, float]:
    """Timestamp (epoch s) of the first readable record at or after each offset.

    CAUGHT_UP when the partition has no readable record there (only transaction markers or
    aborted records); partitions that gave no answer within timeout_s are absent.
    """
    if not positions:
        return {}
    consumer.assign([TopicPartition(t, p, offset) for (t, p), offset in positions.items()])
    found: dict[TP, float] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while len(found) < len(positions) and time.monotonic() < deadline:
            for message in consumer.consume(len(positions), timeout=0.2):
                topic, partition = message.topic(), message.partition()
                if topic is None or partition is None or (topic, partition) in found:
                    continue
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        found[(topic, partition)] = CAUGHT_UP
                    continue
                kind, ms = message.timestamp()
                if kind != TIMESTAMP_NOT_AVAILABLE and ms >= 0:
                    found[(topic, partition)] = ms / 1000
    finally:
        consumer.unassign()
    return found


def pending_records(committed: int | None, low: int, stable: int, *, caught_up: bool) -> int:
    """Records a group still has to read on a partition.

    A group that never committed starts at the low watermark (auto.offset.reset=earliest), and
    one whose committed offset fell out of retention resumes there too. caught_up says that no
    readable record exists at or after the position (only transaction markers or aborted
    records before the last stable offset), which makes the partition caught up.
    """
    start = low if committed is None else max(committed, low)
    if start >= stable or caught_up:
        return 0
    return stable - start
