"""Replaying dead letters after a fix: `fleetstream dlq replay`."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from fleetstream import kafka
from fleetstream.config import KafkaSettings
from fleetstream.errors import FleetstreamError
from fleetstream.loop import header, position
from fleetstream.records import foreign_headers

log = logging.getLogger(__name__)
REPLAYED_FROM = "fs.replayed-from"
IDLE_END_S = 3.0


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What one replay did, per original topic."""

    replayed: Counter[str]
    skipped: int


def replay(
    settings: KafkaSettings,
    *,
    only_topic: str | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    group_id: str = "fleetstream-dlq-replay",
) -> ReplayReport:
    """Send dead letters back to the topic they came from, up to the DLQ's end at start.

    The replay group's committed offsets remember what was replayed, so running it twice
    never replays a message twice; a dry run reads without producing or committing.
    """
    dlq = settings.topic("dlq")
    # Commits only explicitly, after delivery: a dry run or a crash replays nothing twice.
    consumer = Consumer(
        kafka.consumer_config(settings, group_id, auto_store=True) | {"enable.auto.commit": False}
    )
    producer = kafka.make_producer(settings)
    replayed: Counter[str] = Counter()
    skipped = 0
    try:
        ends = _ends(consumer, dlq)
        starts = _committed_offsets(consumer, dlq, sorted(ends))
        consumer.assign([TopicPartition(dlq, p, starts[p]) for p in ends])
        pending = {p for p, end in ends.items() if starts[p] < end}
        idle_since = time.monotonic()
        while pending and (limit is None or sum(replayed.values()) < limit):
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                if time.monotonic() - idle_since > IDLE_END_S:
                    break  # the rest is transaction markers or aborted records
                continue
            idle_since = time.monotonic()
            _topic, partition, offset = position(message)
            if offset >= ends[partition] - 1:
                pending.discard(partition)
            target = header(message, "fs.original.topic")
            if target is None or (only_topic and target.decode() != only_topic):
                skipped += 1
                continue
            if not dry_run:
                _send(producer, message, target.decode(), f"{dlq}:{partition}:{offset}")
            replayed[target.decode()] += 1
        if not dry_run and (replayed or skipped):
            if producer.flush(30):
                raise FleetstreamError(
                    "replayed messages were not all delivered; nothing committed"
                )
            consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return ReplayReport(replayed, skipped)


def _send(producer: Producer, message: Message, topic: str, origin: str) -> None:
    headers = foreign_headers(message)
    headers.append((REPLAYED_FROM, origin.encode()))
    producer.produce(topic, key=message.key(), value=message.value(), headers=headers)
    producer.poll(0)


def _ends(consumer: Consumer, topic: str) -> dict[int, int]:
    metadata = consumer.list_topics(topic, timeout=10).topics[topic]
    if metadata.error is not None:
        raise FleetstreamError(f"cannot read {topic}: {metadata.error}")
    return {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
        for p in metadata.partitions
    }


def _committed_offsets(consumer: Consumer, topic: str, partitions: list[int]) -> dict[int, int]:
    asked = [TopicPartition(topic, p) for p in partitions]
    for attempt in range(10):
        try:
            found = consumer.committed(asked, timeout=10)
        except KafkaException as exc:
            # A group's coordinator may still be moving in; that answer is worth a retry.
            if attempt == 9 or not _coordinator_busy(exc.args[0]):
                raise FleetstreamError(f"cannot read committed offsets of {topic}: {exc}") from None
            time.sleep(0.5)
            continue
        return {tp.partition: max(tp.offset, 0) for tp in found}
    raise AssertionError("unreachable")


def _coordinator_busy(error: KafkaError) -> bool:
    return error.retriable() or error.code() in {
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
    }
