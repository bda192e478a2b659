"""A consumer behind a large backlog holds a bounded prefetch, not the backlog (issue 16).

librdkafka's default prefetch (64 MB per partition) let the sink, slower than the describers,
pull the whole resources backlog into memory: 430 MB peak at 48,000 resources. The bound is
measured as what consume() returns at once, without waiting, after the reader fell behind.
"""

from __future__ import annotations

import os
import time

import pytest
from confluent_kafka import Message

from fleetstream.base.config import Settings
from fleetstream.kafka import clients as kafka

pytestmark = pytest.mark.integration
RECORD_BYTES = 3_000  # about one observation of the benchmark's instances
BACKLOG_RECORDS = 16_000  # 48 MB over the test's 4 partitions: 12 MB each


def test_consumer_prefetches_a_bounded_amount_of_a_large_backlog(
    pipeline: Settings, measurements: list[str]
) -> None:
    kafka.ensure_topics(pipeline.kafka, ["resources"])
    topic = pipeline.kafka.topic("resources")
    producer = kafka.make_producer(pipeline.kafka)
    for index in range(BACKLOG_RECORDS):
        # Random bytes: zstd cannot shrink them, so queued bytes are what was produced.
        producer.produce(topic, key=str(index).encode(), value=os.urandom(RECORD_BYTES))
        producer.poll(0)
    assert producer.flush(60) == 0

    consumer = kafka.make_consumer(pipeline.kafka, pipeline.sink.group_id)
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 120
        first: list[Message] = []
        while not first and time.monotonic() < deadline:  # the group join
            first = consumer.consume(1, timeout=1)
        assert first, "no record within 120 s"
        # A busy reader: the fetcher runs ahead meanwhile, up to its bound.
        time.sleep(10)
        # What consume() hands over without waiting is what was prefetched.
        prefetched = consumer.consume(BACKLOG_RECORDS, timeout=0)
    finally:
        consumer.close()
    prefetched_mb = sum(len(m.value() or b"") for m in prefetched) / 1e6
    measurements.append(f"consumer prefetch of a 48 MB backlog: {prefetched_mb:.1f} MB")
    # 2 MB, overshot by at most one fetch response per partition (1 MB each).
    assert prefetched_mb < 2 + 4 * 1.1, f"prefetched {prefetched_mb:.1f} MB of a 48 MB backlog"
