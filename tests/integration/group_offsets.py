"""What a consumer group has committed, read the way an operator would (integration tests)."""

from __future__ import annotations

import time
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaException, TopicPartition

from fleetstream.base.config import Settings
from fleetstream.kafka.clients import end_offsets as kafka_end_offsets


def committed_offsets(settings: Settings, group: str, topic: str) -> dict[int, int]:
    """partition -> the group's committed offset (negative when none), read by a consumer of
    the group that never subscribes, so it neither joins nor commits."""
    reader = Consumer(
        {
            "bootstrap.servers": settings.kafka.bootstrap_servers,
            "group.id": group,
            "enable.auto.commit": False,
        }
    )
    try:
        partitions = reader.list_topics(topic, timeout=10).topics[topic].partitions
        wanted = [TopicPartition(topic, p) for p in partitions]
        return {tp.partition: tp.offset for tp in reader.committed(wanted, timeout=10)}
    finally:
        reader.close()


def end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    """partition -> high watermark."""
    return kafka_end_offsets(settings.kafka, topic)


def caught_up(settings: Settings, group: str, topic: str) -> bool:
    """The group has committed every record of the topic (idle loops commit past markers)."""
    try:
        committed = committed_offsets(settings, group, topic)
        ends = end_offsets(settings, topic)
    except KafkaException:
        return False  # the coordinator is moving: ask again
    return all(high == 0 or committed.get(p, -1) >= high for p, high in ends.items())


def wait_until(check: Callable[[], bool], what: str, timeout_s: float = 120) -> None:
    """Poll a condition (never a timed assertion: the timeout only bounds a hung test)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")
