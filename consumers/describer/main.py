"""Wires the describer consumer group: work topic -> AWS -> resources + next page."""

from __future__ import annotations

import logging

from confluent_kafka import Message

from consumers.describer.handler import Describer
from fleetstream import kafka
from fleetstream.aws import AwsClients
from fleetstream.catalog import entries_for
from fleetstream.config import Settings
from fleetstream.loop import TransactionalLoop
from fleetstream.metrics import PAGES, RESOURCES, lag_stats_callback, serve
from fleetstream.records import OutRecord
from fleetstream.wire import decode_work_item, encode_resource_event, encode_work_item

log = logging.getLogger(__name__)


def build(settings: Settings, clients: AwsClients | None = None) -> TransactionalLoop:
    """Build the describer loop for the configured catalog types."""
    catalog = {entry.type_name: entry for entry in entries_for(settings.resource_types)}
    describer = Describer(
        clients or AwsClients(settings.aws),
        catalog,
        page_size=settings.describer.page_size,
        role_arn_of=settings.aws.member_role_arn,
    )
    work_topic = settings.kafka.topic("work")
    resources_topic = settings.kafka.topic("resources")

    def handle(message: Message) -> list[OutRecord]:
        item = decode_work_item(message.value())
        result = describer.handle(item)
        key = str(item.shard).encode()
        records = [
            OutRecord(resources_topic, key, encode_resource_event(o)) for o in result.observations
        ]
        if result.next_item is not None:
            records.append(OutRecord(work_topic, key, encode_work_item(result.next_item)))
        if result.outcome is not None:
            records.append(OutRecord(resources_topic, key, encode_resource_event(result.outcome)))
        PAGES.labels(item.resource_type).inc()
        RESOURCES.labels(item.resource_type).inc(len(result.observations))
        log.info(
            "described %s page %d: %d resources%s",
            item.shard,
            item.page_number,
            len(result.observations),
            f", {result.outcome.status.value}" if result.outcome else ", more pages",
        )
        return records

    group = settings.describer.group_id
    consumer = kafka.make_consumer(
        settings.kafka,
        group,
        stats_cb=lag_stats_callback(group),
        stats_interval_ms=settings.metrics.stats_interval_ms,
    )
    producer = kafka.make_producer(
        settings.kafka, kafka.transactional_id(group, settings.describer.instance_id)
    )
    return TransactionalLoop(
        consumer,
        producer,
        group=group,
        topics=[work_topic],
        dlq_topic=settings.kafka.topic("dlq"),
        batch_size=settings.describer.batch_size,
        handler=handle,
        concurrency=settings.describer.concurrency,
    )


def run(settings: Settings) -> None:
    """Run the describer until SIGTERM."""
    kafka.preflight(settings.kafka)
    kafka.ensure_topics(settings.kafka)
    port = serve(settings.metrics)
    loop = build(settings)
    loop.install_signal_handlers()
    log.info("describer started; metrics on port %d", port)
    loop.run()
