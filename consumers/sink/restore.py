"""Disaster recovery: rebuild the inventory table from the compacted state topic.

The state topic holds, per ARN, the resource as of its last change (a null value once it was
deleted; docs/topics.md). Read from the beginning to the end it is the live inventory, from
Kafka alone. Records are applied in partition order (an ARN lives on one partition), so the
last value of a key wins, as compaction would have it; memory holds one batch, never the estate.

Restored items carry the state's observation, tags, attributes and fingerprint, and no TTL:
live items never expire (only tombstones do). A sweep refreshes `observed_at` and `sweep_id`
of an unchanged one once it is older than `sink.rewrite_unchanged_after_s`. Tombstone details
(`deleted_at`) are not in the topic: deleted resources are simply absent, which is what
compaction keeps.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from consumers.sink.store import inventory_item
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.errors import RetryBatchError
from fleetstream.inventory.dynamodb import Tables, backoff, call_dynamodb, chunks
from fleetstream.kafka import clients as kafka
from fleetstream.kafka import topics
from fleetstream.serde.wire import decode_resource_state

log = logging.getLogger(__name__)

_BATCH_WRITE_LIMIT = 25
_ATTEMPTS = 10


@dataclass
class RestoreReport:
    """What a restore read and wrote."""

    records: int = 0
    written: int = 0
    deleted: int = 0


def restore_from_state(settings: Settings, table: str | None = None) -> RestoreReport:
    """Read the state topic from its beginning to its current end into the inventory table
    (created if missing; the sinks should be stopped or the table new)."""
    target = table or settings.sink.table
    ddb = dynamodb_client(settings)
    Tables(ddb, target, settings.sink.sweeps_table).ensure()
    consumer = Consumer(
        kafka.client_config(settings.kafka)
        | {
            "group.id": f"fleetstream-restore-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    report = RestoreReport()
    try:
        ends = _assign_from_beginning(consumer, topics.STATE.kafka_name(settings.kafka), settings)
        while ends:
            batch: dict[str, bytes | None] = {}
            for message in consumer.consume(500, timeout=1.0):
                if message.error() is not None:
                    continue
                batch[(message.key() or b"").decode()] = message.value()
                report.records += 1
                topic, partition, offset = message.topic(), message.partition(), message.offset()
                if offset is not None and offset + 1 >= ends.get((str(topic), partition or 0), 0):
                    ends.pop((str(topic), partition or 0), None)
            _write(ddb, target, batch, report)
    finally:
        consumer.close()
    log.info("restored %s from the state topic: %s", target, report)
    return report


def _assign_from_beginning(
    consumer: Consumer, topic: str, settings: Settings
) -> dict[tuple[str, int], int]:
    """Assign every partition from offset 0; return the end offsets of the non-empty ones."""
    metadata = consumer.list_topics(topic, timeout=settings.kafka.connect_timeout_s)
    partitions = sorted(metadata.topics[topic].partitions)
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    ends: dict[tuple[str, int], int] = {}
    for partition in partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        if high > low:
            ends[(topic, partition)] = high
    return ends


def _write(
    ddb: Any,
    table: str,
    batch: dict[str, bytes | None],
    report: RestoreReport,
) -> None:
    requests: list[dict[str, Any]] = []
    for arn, value in batch.items():
        if value is None:
            requests.append({"DeleteRequest": {"Key": {"arn": {"S": arn}}}})
            report.deleted += 1
            continue
        state = decode_resource_state(value)
        item = inventory_item(state.observation, fingerprint=state.fingerprint)
        requests.append({"PutRequest": {"Item": item}})
        report.written += 1
    for chunk in chunks(requests, _BATCH_WRITE_LIMIT):
        _batch_write(ddb, table, list(chunk))


def _batch_write(ddb: Any, table: str, requests: list[dict[str, Any]]) -> None:
    pending: dict[str, Any] = {table: requests}
    for attempt in range(_ATTEMPTS):
        try:
            response = call_dynamodb(ddb, "batch_write_item", RequestItems=pending)
        except RetryBatchError as exc:
            log.warning("DynamoDB busy, retrying in %.0fs: %s", exc.retry_after, exc)
            time.sleep(exc.retry_after)
            continue
        pending = response.get("UnprocessedItems") or {}
        if not pending:
            return
        backoff(attempt)
    raise RetryBatchError(f"DynamoDB left items of {table} unprocessed; run the restore again", 5)
