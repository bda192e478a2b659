"""Dead letters go back to where they came from, once, after a fix; none is ever stranded."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import Producer

from fleetstream.apps.dlq_replay import REPLAYED_FROM, replay
from fleetstream.base.config import Settings
from fleetstream.kafka.clients import ensure_topics
from fleetstream.runtime.loop import header
from tests.integration.helpers import read_topic

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def dead_letter(settings: Settings, topic: str, *values: bytes) -> None:
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers})
    for value in values:
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


def replayed_values(settings: Settings, topic: str) -> Counter[bytes]:
    """How often each value reached the topic (committed records only)."""
    return Counter(m.value() for m in read_topic(settings, topic, idle_s=1))


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

    # The filtered replay did not strand the other topic's dead letter: an unfiltered run
    # replays it, and only it; a third run replays nothing.
    rest = replay(pipeline.kafka)
    assert rest.replayed == {resources: 1}
    assert replay(pipeline.kafka).replayed == {}
    assert replayed_values(pipeline, work) == {b"w1": 1, b"w2": 1}
    assert replayed_values(pipeline, resources) == {b"r1": 1}


def test_a_filtered_replay_leaves_other_topics_replayable_by_their_own_filter(
    pipeline: Settings,
) -> None:
    ensure_topics(pipeline.kafka)
    work, resources = pipeline.kafka.topic("work"), pipeline.kafka.topic("resources")
    dead_letter(pipeline, resources, b"r1")
    dead_letter(pipeline, work, b"w1")
    dead_letter(pipeline, resources, b"r2")

    assert replay(pipeline.kafka, only_topic=work).replayed == {work: 1}
    # New dead letters after the filtered run: before and after its marks.
    dead_letter(pipeline, work, b"w2")
    dead_letter(pipeline, resources, b"r3")

    assert replay(pipeline.kafka, only_topic=resources).replayed == {resources: 3}
    assert replay(pipeline.kafka, only_topic=resources).replayed == {}
    assert replay(pipeline.kafka, dry_run=True).replayed == {work: 1}
    assert replay(pipeline.kafka).replayed == {work: 1}
    assert replay(pipeline.kafka).replayed == {}
    assert replayed_values(pipeline, work) == {b"w1": 1, b"w2": 1}
    assert replayed_values(pipeline, resources) == {b"r1": 1, b"r2": 1, b"r3": 1}


def test_a_replay_killed_midway_replays_nothing_twice(pipeline: Settings) -> None:
    ensure_topics(pipeline.kafka)
    work = pipeline.kafka.topic("work")
    letters = [f"w{n}".encode() for n in range(300)]
    dead_letter(pipeline, work, *letters)

    # Killed right after its 150th message reached the broker (pipeline env is inherited).
    killed = subprocess.run(
        [sys.executable, "-m", "tests.integration.dying_replay", "150"],
        cwd=REPO,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]

    rerun = replay(pipeline.kafka)
    assert replay(pipeline.kafka).replayed == {}
    seen = replayed_values(pipeline, work)
    assert set(seen) == set(letters)
    assert {value: n for value, n in seen.items() if n > 1} == {}
    # What the killed run had committed (its first chunk) was not replayed again.
    assert 0 < sum(rerun.replayed.values()) < len(letters)
