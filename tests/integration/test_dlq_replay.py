"""Dead letters go back to where they came from, once, after a fix."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer

from fleetstream.config import Settings
from fleetstream.dlq import REPLAYED_FROM, replay
from fleetstream.kafka import ensure_topics
from fleetstream.loop import header
from tests.integration.helpers import read_topic

pytestmark = pytest.mark.integration


def dead_letter(settings: Settings, topic: str, value: bytes) -> None:
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers})
    producer.produce(
        settings.kafka.topic("dlq"),
        key=b"k",
        value=value,
        headers=[
            ("fs.original.topic", topic.encode()),
            ("fs.error.class", b"PoisonMessageError"),
            ("trace-id", b"abc"),
        ],
    )
    assert producer.flush(10) == 0


def test_replay_sends_each_dead_letter_back_once(pipeline: Settings) -> None:
    ensure_topics(pipeline.kafka)
    work, resources = pipeline.kafka.topic("work"), pipeline.kafka.topic("resources")
    dead_letter(pipeline, work, b"w1")
    dead_letter(pipeline, resources, b"r1")
    dead_letter(pipeline, work, b"w2")

    dry = replay(pipeline.kafka, dry_run=True)
    assert dry.replayed == {work: 2, resources: 1}
    assert read_topic(pipeline, work, idle_s=1) == []

    only_work = replay(pipeline.kafka, only_topic=work)
    assert only_work.replayed == {work: 2}
    assert only_work.skipped == 1
    back = read_topic(pipeline, work, idle_s=1)
    assert sorted(m.value() for m in back) == [b"w1", b"w2"]
    for message in back:
        assert message.key() == b"k"
        assert header(message, "trace-id") == b"abc"
        assert header(message, "fs.error.class") is None
        assert (header(message, REPLAYED_FROM) or b"").startswith(
            pipeline.kafka.topic("dlq").encode()
        )

    # The replay group committed: a second run replays nothing again.
    again = replay(pipeline.kafka)
    assert sum(again.replayed.values()) == 0
