"""Wires the describer consumer group: work topic -> AWS -> resources + next page."""

from __future__ import annotations

import logging

from confluent_kafka import Message

from consumers.describer.handler import Describer, DescribeResult
from fleetstream.aws import AwsClients
from fleetstream.catalog import entries_for
from fleetstream.config import Settings
from fleetstream.loop import NOT_BEFORE_HEADER, TransactionalLoop, run_group, transactional_group
from fleetstream.metrics import PAGES, RESOURCES
from fleetstream.models import WorkItem
from fleetstream.records import OutRecord
from fleetstream.retry import RetryPolicy
from fleetstream.wire import (
    MAX_RECORD_BYTES,
    decode_work_item,
    encode_observation_within,
    encode_resource_event,
    encode_work_item,
)

log = logging.getLogger(__name__)


def build(settings: Settings, clients: AwsClients | None = None) -> TransactionalLoop:
    """Build the describer loop for the configured catalog types."""
    catalog = {entry.type_name: entry for entry in entries_for(settings.resource_types)}
    describer = Describer(
        clients or AwsClients(settings.aws),
        catalog,
        page_size=settings.describer.page_size,
        role_arn_of=settings.aws.member_role_arn,
        retry=RetryPolicy(
            max_attempts=settings.describer.retry_max_attempts,
            base_s=settings.describer.retry_base_s,
            max_backoff_s=settings.describer.retry_max_backoff_s,
            shard_deadline_s=settings.describer.shard_deadline_s,
        ),
    )
    work_topic = settings.kafka.topic("work")
    retry_topic = settings.kafka.topic("work-retry")
    resources_topic = settings.kafka.topic("resources")

    def handle(message: Message) -> list[OutRecord]:
        item = decode_work_item(message.value())
        result = describer.handle(item)
        shard_key = str(item.shard).encode()
        work_key = item.budget_key.encode()
        records = [
            OutRecord(resources_topic, shard_key, encode_observation_within(o, MAX_RECORD_BYTES))
            for o in result.observations
        ]
        if result.next_item is not None:
            records.append(OutRecord(work_topic, work_key, encode_work_item(result.next_item)))
        if result.retry is not None:
            records.append(retry_record(retry_topic, result.retry))
        if result.outcome is not None:
            records.append(
                OutRecord(resources_topic, shard_key, encode_resource_event(result.outcome))
            )
        PAGES.labels(item.resource_type).inc()
        RESOURCES.labels(item.resource_type).inc(len(result.observations))
        log.info("described %s page %d: %s", item.shard, item.page_number, _summary(result))
        return records

    return transactional_group(
        settings,
        group=settings.describer.group_id,
        instance_id=settings.describer.instance_id,
        topics=[work_topic, retry_topic],
        handler=handle,
        batch_size=settings.describer.batch_size,
        concurrency=settings.describer.concurrency,
        commit_watchdog_s=settings.describer.commit_watchdog_s,
    )


def retry_record(topic: str, item: WorkItem) -> OutRecord:
    """The retry of a page, with its due time in a header so the loop can hold it unread."""
    assert item.not_before is not None
    due_ms = str(int(item.not_before.timestamp() * 1000)).encode()
    return OutRecord(
        topic, item.budget_key.encode(), encode_work_item(item), [(NOT_BEFORE_HEADER, due_ms)]
    )


def _summary(result: DescribeResult) -> str:
    if result.retry is not None:
        retry = result.retry
        return f"retry #{retry.attempt} at {retry.not_before:%H:%M:%S} ({retry.last_error})"
    if result.outcome is not None:
        return f"{len(result.observations)} resources, {result.outcome.status.value}"
    return f"{len(result.observations)} resources, more pages"


def run(settings: Settings) -> None:
    """Run the describer until SIGTERM."""
    run_group("describer", settings, build)
