"""Wires the event router group: events topic -> refresh topic."""

from __future__ import annotations

from datetime import timedelta

from fleetstream.base.config import Settings
from fleetstream.base.metrics import lag_stats_callback
from fleetstream.base.models import GLOBAL_REGION
from fleetstream.catalog import entries_for
from fleetstream.kafka import clients as kafka
from fleetstream.kafka import topics
from fleetstream.runtime.loop import run_group
from producers.events.admission import Admission
from producers.events.coalesce import Coalescer
from producers.events.router import EventRouter, InScope
from producers.events.routes import Routes


def scope_of(settings: Settings) -> InScope:
    """Whether an event's account and region are part of the configured estate."""
    accounts = settings.accounts
    static = {a.id for a in accounts.static} if accounts.source == "static" else None
    regions = settings.regions

    def in_scope(account_id: str, region: str) -> bool:
        if static is not None and account_id not in static:
            return False
        if not accounts.selects(account_id):
            return False
        if region == GLOBAL_REGION:
            return True
        return (not regions.include or region in regions.include) and (
            region not in regions.exclude
        )

    return in_scope


def build(settings: Settings) -> EventRouter:
    """Build the router for the configured resource types."""
    entries = entries_for(settings.resource_types)
    router = settings.router
    group = router.group_id
    consumer = kafka.make_consumer(
        settings.kafka,
        group,
        stats_cb=lag_stats_callback(group),
        stats_interval_ms=settings.metrics.stats_interval_ms,
    )
    txn_id = kafka.transactional_id(group, router.instance_id)
    producer = kafka.make_producer(settings.kafka, txn_id)
    return EventRouter(
        consumer,
        producer,
        group=group,
        topics=[topics.EVENTS.kafka_name(settings.kafka)],
        dlq_topic=topics.DLQ.kafka_name(settings.kafka),
        batch_size=router.batch_size,
        routes=Routes(entries),
        coalescer=Coalescer(
            {e.type_name: e for e in entries},
            router.coalesce_window_s,
            router.dedupe_entries,
            account_budget=router.account_budget,
        ),
        refresh_topic=topics.REFRESH.kafka_name(settings.kafka),
        in_scope=scope_of(settings),
        admission=Admission(
            future_tolerance=timedelta(seconds=router.future_tolerance_s),
            max_age=timedelta(seconds=router.max_event_age_s),
        ),
    )


def run(settings: Settings) -> None:
    """Run the event router until SIGTERM."""
    run_group("router", settings, build)
