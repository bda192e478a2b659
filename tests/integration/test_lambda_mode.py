"""Lambda mode on the real stack: MSK-format events through the Lambda handlers' drivers.

An event source mapping stand-in reads the topics like Lambda's poller and hands each batch
over in AWS's event format (base64 key and value, byte-list headers, records grouped by
topic-partition). Proves: the describer pages a shard through the work topic to its outcome;
the sink writes DynamoDB; poison on either input goes to the DLQ with the consumer groups'
headers while the rest of its batch succeeds; a retried page not due yet is reported as a
batch item failure, not processed. Then disaster recovery: `restore-from-state` rebuilds a
fresh table from the compacted state topic the Lambda sink wrote.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from confluent_kafka import Consumer, Message, TopicPartition

from consumers.describer.main import make_handler
from consumers.sink.main import make_writer
from consumers.sink.restore import restore_from_state
from devstack import StackEndpoints
from devstack.seed import EstateSpec, seed_estate
from fleetstream.apps.lambda_mode.driver import DescriberBatch, SinkBatch
from fleetstream.apps.lambda_mode.event import event_record, to_event
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.models import ShardOutcome, ShardStatus
from fleetstream.inventory.read import scan_items
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.loop import NOT_BEFORE_HEADER
from fleetstream.serde.wire import decode_resource_event
from producers.main import plan_sweep
from tests.integration.helpers import inventory_facts, produce_raw, read_topic, settings_for

pytestmark = pytest.mark.integration

LAMBDA_TIME_LEFT_MS = 300_000


class EventSource:
    """Reads topics from the start like Lambda's poller; each poll is one event's records."""

    def __init__(self, settings: Settings, topics: list[str]) -> None:
        self.consumer = Consumer(
            {
                "bootstrap.servers": settings.kafka.bootstrap_servers,
                "group.id": f"esm-{time.time_ns()}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
            }
        )
        assignment = []
        for topic in topics:
            metadata = self.consumer.list_topics(topic, timeout=10)
            assignment += [TopicPartition(topic, p, 0) for p in metadata.topics[topic].partitions]
        self.consumer.assign(assignment)

    def poll(self, idle_s: float = 1.5) -> list[Message]:
        """Every record that arrived since the last poll (until idle_s without a new one)."""
        found: list[Message] = []
        last = time.monotonic()
        while time.monotonic() - last < idle_s:
            for message in self.consumer.consume(500, timeout=0.3):
                if message.error() is None:
                    found.append(message)
                    last = time.monotonic()
        return found

    def close(self) -> None:
        self.consumer.close()


def event_of(batch: list[Message]) -> dict[str, Any]:
    return to_event((event_record(m) for m in batch), "arn:aws:kafka:us-east-1:1:cluster/x/y")


def test_lambda_describer_and_sink_with_poison_held_pages_and_restore(
    local_stack: StackEndpoints, pipeline: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert local_stack.aws_endpoint
    estate = seed_estate(
        local_stack.aws_endpoint,
        EstateSpec(member_accounts=1, regions=("eu-west-1",), paged_instances=12),
    )
    settings = settings_for(monkeypatch, estate, FLEETSTREAM_DESCRIBER__PAGE_SIZE="5")
    kafka.ensure_topics(settings.kafka)
    work, retry = settings.kafka.topic("work"), settings.kafka.topic("work-retry")
    resources = settings.kafka.topic("resources")
    produce_raw(settings, work, [(b"poison/work", b"\x00garbage")])
    planned = plan_sweep(settings)
    [first_page] = [m for m in read_topic(settings, work, idle_s=1.0) if m.key() != b"poison/work"]
    # A retried page due tomorrow: Lambda must get it back, so it is reported, not described.
    tomorrow = str(int((time.time() + 86_400) * 1000)).encode()
    producer = kafka.make_producer(settings.kafka)
    producer.produce(
        retry, first_page.value(), first_page.key(), headers=[(NOT_BEFORE_HEADER, tomorrow)]
    )
    assert producer.flush(10) == 0

    delivered, responses = _run_describer_lambda(settings)
    # Rounds: {poison, page 1, held retry}, page 2, page 3: the chain of 12 at 5 per page.
    assert delivered == 5
    [held_record] = read_topic(settings, retry, idle_s=1.0)  # never described: no retry of it
    held = [r["batchItemFailures"] for r in responses if r["batchItemFailures"]]
    partition = f"{retry}-{held_record.partition()}"
    assert held == [[{"itemIdentifier": {"partition": partition, "offset": 0}}]]
    events = [decode_resource_event(m.value()) for m in read_topic(settings, resources)]
    outcomes = [e for e in events if isinstance(e, ShardOutcome)]
    assert [(o.sweep_id, o.status, o.resource_count, o.pages) for o in outcomes] == [
        (planned.sweep_id, ShardStatus.COMPLETE, 12, 3)
    ]

    produce_raw(settings, resources, [(b"poison/resources", b"\x01not avro")])
    sink = SinkBatch(make_writer(settings), kafka.make_producer(settings.kafka))
    source = EventSource(settings, [resources])
    try:
        batch = source.poll()
        assert len(batch) == len(events) + 1
        assert sink(event_of(batch), lambda: LAMBDA_TIME_LEFT_MS) == {"batchItemFailures": []}
    finally:
        source.close()
    truth = estate.truth()
    assert len(truth) == 12
    assert inventory_facts(settings) == truth

    _assert_dead_letters(settings)
    _assert_restore_rebuilds_the_table(settings)


def _run_describer_lambda(settings: Settings) -> tuple[int, list[dict[str, Any]]]:
    """Hand the work topics' records to the describer's driver until no new one appears."""
    describe = DescriberBatch(
        make_handler(settings),
        kafka.make_producer(settings.kafka),
        group=settings.describer.group_id,
        dlq_topic=settings.kafka.topic("dlq"),
        concurrency=4,
    )
    source = EventSource(
        settings, [settings.kafka.topic("work"), settings.kafka.topic("work-retry")]
    )
    responses: list[dict[str, Any]] = []
    delivered = 0
    try:
        while batch := source.poll():
            delivered += len(batch)
            responses.append(describe(event_of(batch), lambda: LAMBDA_TIME_LEFT_MS))
    finally:
        source.close()
    return delivered, responses


def _assert_dead_letters(settings: Settings) -> None:
    dead = {m.key(): dict(m.headers()) for m in read_topic(settings, settings.kafka.topic("dlq"))}
    assert set(dead) == {b"poison/work", b"poison/resources"}
    for key, group, topic in [
        (b"poison/work", settings.describer.group_id, settings.kafka.topic("work")),
        (b"poison/resources", settings.sink.group_id, settings.kafka.topic("resources")),
    ]:
        assert dead[key]["fs.original.topic"] == topic.encode()
        assert dead[key]["fs.consumer.group"] == group.encode()
        assert dead[key]["fs.error.class"] == b"PoisonMessageError"
        assert {"fs.original.partition", "fs.original.offset", "fs.attempts"} <= set(dead[key])


def _assert_restore_rebuilds_the_table(settings: Settings) -> None:
    """Disaster recovery: the state topic alone rebuilds the live inventory in a new table."""
    report = restore_from_state(settings, table=f"{settings.sink.table}-restored")
    assert (report.written, report.deleted) == (12, 0)
    client = dynamodb_client(settings)
    original = {i["arn"]["S"]: i for i in scan_items(client, settings.sink.table)}
    restored = {i["arn"]["S"]: i for i in scan_items(client, f"{settings.sink.table}-restored")}
    assert set(restored) == set(original)
    for arn, item in restored.items():
        for name in ("shard", "resource_id", "tags", "fingerprint", "account_id", "region"):
            assert item[name] == original[arn][name], (arn, name)
        assert item["attributes"] == original[arn]["attributes"]
        # Live items never expire, restored or written by the sink.
        assert "expires_at" not in item and "expires_at" not in original[arn]
