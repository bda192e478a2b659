"""Wires the planner: discover the estate, emit one sweep, record its header."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from confluent_kafka import KafkaError, Message, Producer

from fleetstream.aws.accounts import list_accounts
from fleetstream.aws.clients import AwsClients, dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.errors import FleetstreamError
from fleetstream.base.models import ShardOutcome, ShardStatus, WorkItem, utc_now
from fleetstream.catalog import entries_for
from fleetstream.inventory.dynamodb import Tables
from fleetstream.inventory.sweeps import SweepStore
from fleetstream.kafka import clients as kafka
from fleetstream.kafka import topics
from fleetstream.serde.wire import encode_resource_event, encode_work_item
from producers.planner import Planner, new_sweep_id

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlannedSweep:
    """What one planner run issued."""

    sweep_id: str
    accounts: int
    shards: int
    failed_at_plan: int


def plan_sweep(settings: Settings, clients: AwsClients | None = None) -> PlannedSweep:
    """Emit every shard of a new sweep to Kafka; return once all are durably produced."""
    clients = clients or AwsClients(settings.aws)
    entries = entries_for(settings.resource_types)
    ddb = dynamodb_client(settings)
    Tables(
        ddb, settings.sink.table, settings.sink.sweeps_table, settings.sink.seen_table_name
    ).ensure()
    sweeps = SweepStore(ddb, settings.sink.sweeps_table, timedelta(days=settings.sink.ttl_days))
    accounts = list_accounts(settings.accounts, clients)
    planner = Planner(settings, clients, entries)
    estate = planner.discover(accounts)
    sweep_id = new_sweep_id()
    started = utc_now()
    producer = kafka.make_producer(settings.kafka)
    units = list(planner.plan(sweep_id, estate, started))
    failed = emit_units(settings, producer, sweep_id, units)
    # The header goes last: a sweep is only 'finished' against a total that was fully issued.
    sweeps.record_sweep(sweep_id, len(units), started)
    log.info("sweep %s: %d accounts, %d shards issued", sweep_id, len(accounts), len(units))
    return PlannedSweep(sweep_id, len(accounts), len(units), failed)


def emit_units(
    settings: Settings,
    producer: Producer,
    sweep_id: str,
    units: Iterable[WorkItem | ShardOutcome],
) -> int:
    """Produce first pages (work topic) and what planning found (plan-outcomes); return once
    all are durably written, with the number of failed shards. Raises FleetstreamError."""
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            failures.append(error)

    failed = 0
    for unit in units:
        if isinstance(unit, ShardOutcome):
            failed += unit.status is ShardStatus.FAILED
            topic, value = (
                topics.PLAN_OUTCOMES.kafka_name(settings.kafka),
                encode_resource_event(unit, topic=topics.PLAN_OUTCOMES),
            )
            key = str(unit.shard).encode()
            if unit.status is ShardStatus.FAILED:
                log.warning("shard %s failed at planning: %s", unit.shard, unit.reason)
        else:
            topic, value = (
                topics.WORK.kafka_name(settings.kafka),
                encode_work_item(unit, topic=topics.WORK),
            )
            key = unit.budget_key.encode()
        while True:
            try:
                producer.produce(topic, value=value, key=key, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    remaining = producer.flush(60)
    if remaining or failures:
        reason = failures[0] if failures else f"{remaining} messages not delivered in 60s"
        raise FleetstreamError(f"sweep {sweep_id} was not fully issued: {reason}")
    return failed
