"""Reading the changes topic back: one resource's history, or every resource as of a time.

The topic is keyed by ARN and retained for kafka's changes retention: history reaches back as
far as the oldest record still held, which the caller is told (`retained_from`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from confluent_kafka import Consumer, KafkaError, TopicPartition

from fleetstream.base.config import Settings
from fleetstream.base.errors import ConfigError
from fleetstream.inventory.rows import Row
from fleetstream.kafka import topics
from fleetstream.kafka.clients import client_config
from fleetstream.serde.wire import ChangeEvent, ChangeType, decode_change_event

_READ_LIMIT_S = 300.0


@dataclass(slots=True)
class ChangeLog:
    """Changes read from the topic, in per-ARN order, and how far back the topic reaches."""

    events: list[ChangeEvent]
    retained_from: datetime | None = None  # observed_at of the oldest record still held


def _consumer(settings: Settings) -> Consumer:
    # A throwaway group that never commits: reading history moves no one's offsets.
    return Consumer(
        client_config(settings.kafka)
        | {
            "group.id": f"fleetstream-reader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )


def _records(settings: Settings, keep: Callable[[bytes | None], bool]) -> Iterator[ChangeEvent]:
    """Every committed change event whose key `keep` accepts, partition by partition."""
    topic = topics.CHANGES.kafka_name(settings.kafka)
    consumer = _consumer(settings)
    try:
        metadata = consumer.list_topics(topic, timeout=30)
        found = metadata.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            raise ConfigError(f"cannot read the changes topic {topic}: does it exist?")
        partitions = set(found.partitions)
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])  # 0: oldest held
        at_end: set[int | None] = set()
        give_up = time.monotonic() + _READ_LIMIT_S
        while at_end != set(partitions):
            if time.monotonic() > give_up:
                raise ConfigError(f"reading {topic} took over {_READ_LIMIT_S:.0f} s; aborted")
            for message in consumer.consume(500, timeout=1.0):
                error = message.error()
                if error is None:
                    at_end.discard(message.partition())
                    if keep(message.key()):
                        yield decode_change_event(message.value())
                elif error.code() == KafkaError._PARTITION_EOF:
                    at_end.add(message.partition())
                else:
                    raise ConfigError(f"reading {topic}: {error.str()}")
    finally:
        consumer.close()


def history(settings: Settings, arn: str) -> list[ChangeEvent]:
    """The changes of one ARN still held by the topic, oldest first."""
    key = arn.encode()
    events = list(_records(settings, lambda k: k == key))
    return sorted(events, key=lambda e: e.observed_at)


def _row(event: ChangeEvent, previous: Row | None) -> Row:
    attributes = event.attributes_json
    if attributes is None:  # left out of an oversized record: the last one known, if any
        attributes = previous["attributes"] if previous is not None else "null"
    tags = event.tags if event.tags is not None else dict(previous["tags"]) if previous else {}
    deleted = event.change_type is ChangeType.DELETED
    return {
        "arn": event.arn,
        "account_id": event.account_id,
        "account_name": event.account_name,
        "region": event.region,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "name": event.name if not deleted or previous is None else previous["name"],
        "tags": sorted(tags.items()),
        "attributes": attributes if not deleted or previous is None else previous["attributes"],
        "observed_at": event.observed_at
        if not deleted or previous is None
        else previous["observed_at"],
        "deleted_at": event.observed_at if deleted else None,
    }


def rows_as_of(settings: Settings, as_of: datetime) -> tuple[list[Row], datetime | None]:
    """Every resource as the changes topic shows it at `as_of` (a DELETED last change is a
    tombstone row), and the time of the oldest change the topic still holds."""
    latest: dict[str, Row] = {}
    oldest: datetime | None = None
    for event in _records(settings, lambda _key: True):
        if oldest is None or event.observed_at < oldest:
            oldest = event.observed_at
        if event.observed_at > as_of:
            continue
        held = latest.get(event.arn)
        if held is not None and _when(held) > event.observed_at:
            continue  # per-ARN order holds in the topic; this guards a replayed older record
        latest[event.arn] = _row(event, held)
    return sorted(latest.values(), key=lambda r: str(r["arn"])), oldest


def _when(row: Row) -> datetime:
    deleted: datetime | None = row["deleted_at"]
    observed: datetime = row["observed_at"]
    return deleted if deleted is not None else observed
