"""Wires the sink consumer group: resources and plan-outcomes -> DynamoDB, changes, state."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from consumers.sink.accounts import GoneAccounts
from consumers.sink.changes import SinkOutput
from consumers.sink.clocks import FutureTimeError, check_times
from consumers.sink.deletions import Tombstoner
from consumers.sink.freshness import EventTimes
from consumers.sink.handler import Sink
from consumers.sink.pacing import KeepAlive, no_keep_alive
from consumers.sink.provenance import check_describer_event, check_planner_event
from consumers.sink.seen import SeenMarks
from consumers.sink.store import InventoryStore
from consumers.sink.unreachable import Unreachable
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.errors import PoisonMessageError
from fleetstream.base.metrics import lag_stats_callback
from fleetstream.base.models import Observation, ResourceEvent
from fleetstream.inventory.dynamodb import Tables
from fleetstream.inventory.sweeps import SweepStore
from fleetstream.kafka import clients as kafka
from fleetstream.kafka import topics
from fleetstream.runtime.loop import (
    TRIGGERED_AT_HEADER,
    AtLeastOnceLoop,
    BatchWriter,
    header,
    run_group,
    to_dead_letter,
)
from fleetstream.runtime.records import OutRecord
from fleetstream.serde.wire import decode_resource_event, encode_change_event, encode_resource_state

log = logging.getLogger(__name__)


def to_records(
    outputs: list[SinkOutput],
    changes_topic: str,
    state_topic: str,
    keep_alive: KeepAlive = no_keep_alive,
) -> list[OutRecord]:
    """Change events and state values (a null value when deleted), keyed by ARN."""
    records: list[OutRecord] = []
    for output in outputs:
        keep_alive()  # an outcome's thousands of DELETED events take a while to encode
        key = output.arn.encode()
        if output.change is not None:
            records.append(
                OutRecord(
                    changes_topic, key, encode_change_event(output.change, topic=topics.CHANGES)
                )
            )
        if output.deleted:
            records.append(OutRecord(state_topic, key, None))
        elif output.state is not None:
            records.append(
                OutRecord(state_topic, key, encode_resource_state(output.state, topic=topics.STATE))
            )
    return records


def _raise_on_failed_delivery(error: KafkaError | None, _message: Message) -> None:
    # flush() returning 0 only says every record got a delivery report, not a good one. A
    # failed change record must not let the batch's offsets be stored: raising here makes
    # flush() raise, the sink exits, and the redelivered batch emits the records again.
    if error is not None:
        raise KafkaException(error)


def make_writer(settings: Settings, keep_alive: KeepAlive = no_keep_alive) -> BatchWriter:
    """The sink's batch writer, shared by the consumer loop and the Lambda handler: a batch of
    resource events into DynamoDB (tables created if missing), out come the change, state and
    dead-letter records to produce before the batch counts as done. keep_alive is called
    between the bounded chunks of an outcome's work (the consumer loop's keep_alive)."""
    ddb = dynamodb_client(settings)
    Tables(
        ddb, settings.sink.table, settings.sink.sweeps_table, settings.sink.seen_table_name
    ).ensure()
    ttl = timedelta(days=settings.sink.ttl_days)
    seen = SeenMarks(ddb, settings.sink.seen_table_name, settings.sink.seen_retention_s)
    sink = Sink(
        InventoryStore(
            ddb,
            settings.sink.table,
            seen,
            skip_unchanged=settings.sink.skip_unchanged,
            rewrite_unchanged_after_s=settings.sink.rewrite_unchanged_after_s,
        ),
        SweepStore(ddb, settings.sink.sweeps_table, ttl),
        Tombstoner(
            ddb,
            settings.sink.table,
            ttl,
            seen,
            margin_ms=settings.sink.clock_skew_margin_ms,
            chunk_size=settings.sink.outcome_chunk_size,
            keep_alive=keep_alive,
        ),
        GoneAccounts(
            ddb,
            settings.sink.table,
            chunk_size=settings.sink.outcome_chunk_size,
            keep_alive=keep_alive,
        ),
        Unreachable(
            ddb,
            settings.sink.table,
            seen,
            max_stale_s=settings.sink.max_stale_s,
            gone_account_grace_s=settings.sink.gone_account_grace_s,
            rewrite_unchanged_after_s=settings.sink.rewrite_unchanged_after_s,
            ttl=ttl,
            chunk_size=settings.sink.outcome_chunk_size,
            keep_alive=keep_alive,
        ),
    )
    group = settings.sink.group_id
    dlq_topic = topics.DLQ.kafka_name(settings.kafka)
    plan_topic = topics.PLAN_OUTCOMES.kafka_name(settings.kafka)
    changes_topic = topics.CHANGES.kafka_name(settings.kafka)
    state_topic = topics.STATE.kafka_name(settings.kafka)
    tolerance = timedelta(seconds=settings.sink.future_tolerance_s)

    def write_messages(batch: list[Message]) -> list[OutRecord]:
        events: list[ResourceEvent] = []
        dead: list[OutRecord] = []
        triggers = EventTimes()
        now = datetime.now(UTC)  # the sink's own clock: no time beyond it decides anything
        refused: list[Observation] = []
        for message in batch:
            try:
                event = decode_resource_event(message.value())
                if message.topic() == plan_topic:
                    event = check_planner_event(event)
                else:
                    event = check_describer_event(event)
                event = check_times(event, now, tolerance)
            except PoisonMessageError as exc:
                if isinstance(exc, FutureTimeError):
                    refused.append(exc.observation)
                dead.append(
                    to_dead_letter(message, exc, kind="poison", group=group, dlq_topic=dlq_topic)
                )
                continue
            events.append(event)
            triggers.note(event, header(message, TRIGGERED_AT_HEADER))
        if refused:
            # Before any outcome of this batch: the refused resources exist, so their sweep
            # must not delete them for want of a mark.
            seen.record_refused(refused, int(now.timestamp() * 1000))
        # Written to DynamoDB now; the driver produces these and flushes before the batch's
        # offsets count as processed.
        outputs = sink.write(events)
        triggers.observe_freshness(outputs)
        return dead + to_records(outputs, changes_topic, state_topic, keep_alive)

    return write_messages


def build(settings: Settings) -> AtLeastOnceLoop:
    """Build the sink loop (tables created if missing)."""
    loop: AtLeastOnceLoop | None = None

    def keep_alive() -> None:
        # The loop that runs the writer exists by the time the writer runs.
        if loop is not None:
            loop.keep_alive()

    writer = make_writer(settings, keep_alive)
    group = settings.sink.group_id
    consumer = kafka.make_consumer(
        settings.kafka,
        group,
        stats_cb=lag_stats_callback(group),
        stats_interval_ms=settings.metrics.stats_interval_ms,
    )
    producer = Producer(
        kafka.producer_config(settings.kafka) | {"on_delivery": _raise_on_failed_delivery}
    )
    loop = AtLeastOnceLoop(
        consumer,
        producer,
        group=group,
        topics=[
            topics.RESOURCES.kafka_name(settings.kafka),
            topics.PLAN_OUTCOMES.kafka_name(settings.kafka),
        ],
        dlq_topic=topics.DLQ.kafka_name(settings.kafka),
        batch_size=settings.sink.batch_size,
        writer=writer,
    )
    return loop


def run(settings: Settings) -> None:
    """Run the sink until SIGTERM."""
    run_group("sink", settings, build)
