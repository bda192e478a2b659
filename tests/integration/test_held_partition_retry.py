"""A partition held on a record that is not due stays held through a retried batch.

A batch of another partition that must be redone (DynamoDB throttling: RetryBatchError) waits
with every partition paused (ConsumerLoop.wait_paused). Found in review: the wait then resumed
every partition, the held one too, so the next polls read the held record and those behind it,
dropped them as "waiting behind a held record" and moved the position past them; when the
hold expired the partition resumed from there and the records were never processed, while the
next record's offset was stored. Real broker, the sink's loop class (AtLeastOnceLoop).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import Message
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from fleetstream.base.config import Settings
from fleetstream.base.errors import RetryBatchError
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.loop import NOT_BEFORE_HEADER, AtLeastOnceLoop, epoch_ms_header
from fleetstream.runtime.records import OutRecord

pytestmark = pytest.mark.integration

HOLD_S = 6.0


def test_a_held_partition_stays_held_through_a_retried_batch(pipeline: Settings) -> None:
    topic = pipeline.kafka.topic("held-retry")
    admin = AdminClient(kafka.client_config(pipeline.kafka))
    for future in admin.create_topics([NewTopic(topic, num_partitions=2)]).values():
        future.result()
    due = datetime.now(UTC) + timedelta(seconds=HOLD_S)
    producer = kafka.make_producer(pipeline.kafka)
    # Partition 0: a record held until `due`, then one behind it; partition 1 (below, once the
    # record is held): a record whose first write is throttled.
    producer.produce(
        topic, b"held", b"k", partition=0, headers=[(NOT_BEFORE_HEADER, epoch_ms_header(due))]
    )
    producer.produce(topic, b"behind", b"k", partition=0)
    assert producer.flush(30) == 0

    written: list[bytes] = []
    throttled_once = threading.Event()

    def writer(batch: list[Message]) -> list[OutRecord]:
        values = [bytes(m.value() or b"") for m in batch]
        if b"throttled" in values and not throttled_once.is_set():
            throttled_once.set()
            raise RetryBatchError("DynamoDB is throttling (test)", retry_after=2.0)
        written.extend(values)
        return []

    group = f"{pipeline.sink.group_id}-held-retry"
    loop = AtLeastOnceLoop(
        kafka.make_consumer(pipeline.kafka, group),
        kafka.make_producer(pipeline.kafka),
        group=group,
        topics=[topic],
        dlq_topic=pipeline.kafka.topic("dlq"),
        batch_size=10,
        writer=writer,
    )
    runner = threading.Thread(target=loop.run, daemon=True)
    runner.start()
    held_by = time.monotonic() + 60
    while not loop.held_partitions() and time.monotonic() < held_by:
        time.sleep(0.1)
    assert loop.held_partitions() == {(topic, 0)}, "the record was never held"
    # Only now the throttled write: its retry waits while partition 0 is held.
    producer.produce(topic, b"throttled", b"k", partition=1)
    assert producer.flush(30) == 0
    deadline = time.monotonic() + HOLD_S + 90
    try:
        while time.monotonic() < deadline and len(written) < 3:
            time.sleep(0.25)
    finally:
        loop.stop()
        runner.join(30)
    assert throttled_once.is_set(), "the retry never happened"
    assert sorted(written) == [b"behind", b"held", b"throttled"], written
    assert written.index(b"held") < written.index(b"behind")
