"""The long-running planner: sweeps per type on a cadence, never piling work on a backlog.

Every tick it (1) looks up accounts and regions again when they are due, (2) reads the
outcomes of the shards it has in flight, (3) reads the describers' backlog, (4) issues the
shards that are due as one sweep, skipping those still in flight and holding everything back
while the backlog is above planner.max_backlog, and (5) exports the inventory's age.

In-flight shards are known from this process's own issues; after a restart the planner does
not know what its predecessor left in flight and may issue such a shard again. That is safe:
deletion only ever removes what a *complete* shard did not see since that shard started.

A throttled or unavailable AWS Organizations never stops the planner: the lookup is tried
again with backoff (planner.estate_retry_max_s at most) while the last known estate keeps
being planned. A permanent error (access denied) stops it at start, where a person must act;
later it is reported and the last known estate is kept until the next lookup.
"""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from types import FrameType

from confluent_kafka import Producer

from fleetstream.aws.accounts import Account, AccountsUnavailableError, list_accounts
from fleetstream.aws.clients import AwsClients, dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.continuous_metrics import (
    INVENTORY_AGE,
    PLANNER_BACKLOG,
    PLANNER_CADENCE,
    PLANNER_ESTATE_ERRORS,
    PLANNER_HOLDING,
    PLANNER_IN_FLIGHT,
    PLANNER_SHARDS,
    SHARD_AGE,
    STALE_SHARDS,
)
from fleetstream.base.errors import ConfigError
from fleetstream.base.metrics import serve
from fleetstream.base.models import ShardKey, utc_now
from fleetstream.base.retry import RetryPolicy
from fleetstream.catalog import CatalogEntry, entries_for
from fleetstream.inventory.dynamodb import Tables
from fleetstream.inventory.sweeps import SweepStore
from fleetstream.kafka import clients as kafka
from producers.backlog import DescriberBacklog
from producers.main import emit_units
from producers.planner import AccountRegions, Planner, new_sweep_id
from producers.schedule import Decision, Schedule

log = logging.getLogger(__name__)

TO_ISSUE = {Decision.ISSUED, Decision.PRESUMED_LOST}


class ContinuousPlanner:
    """Issues due shards tick after tick until stopped."""

    def __init__(
        self,
        settings: Settings,
        planner: Planner,
        entries: Sequence[CatalogEntry],
        *,
        accounts: Callable[[], list[Account]],
        producer: Producer,
        sweeps: SweepStore,
        backlog: Callable[[], int],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._config = settings.planner
        self._planner = planner
        self._list_accounts = accounts
        self._producer = producer
        self._sweeps = sweeps
        self._backlog = backlog
        self._clock = clock
        now = clock()
        self.schedule = Schedule(
            self._config.cadence_of, self._config.jitter, self._config.in_flight_timeout_s, now
        )
        self._estate: list[AccountRegions] = []
        self._estate_known = False
        self._estate_due = now
        self._estate_failures = 0
        self._estate_retry = RetryPolicy(
            base_s=self._config.tick_s, max_backoff_s=self._config.estate_retry_max_s
        )
        for entry in entries:
            PLANNER_CADENCE.labels(entry.type_name).set(self._config.cadence_of(entry.type_name))

    def run(self, stop: threading.Event) -> None:
        """Tick until stop is set."""
        while not stop.is_set():
            self.tick()
            stop.wait(self._config.tick_s)

    def tick(self) -> list[str]:
        """One round; returns the ids of the sweeps it issued (none or one)."""
        now = self._clock()
        if now >= self._estate_due:
            self._refresh_estate(now)
        self._collect_outcomes()
        decisions = self.schedule.decide(now, self._hold_back())
        for shard, decision in decisions.items():
            PLANNER_SHARDS.labels(shard.resource_type, decision.value).inc()
        due = {shard for shard, decision in decisions.items() if decision in TO_ISSUE}
        issued = [self._issue(due, now)] if due else []
        self._export_ages(now)
        return issued

    def _refresh_estate(self, now: float) -> None:
        try:
            accounts = self._list_accounts()
        except AccountsUnavailableError as exc:
            PLANNER_ESTATE_ERRORS.labels(exc.kind.value).inc()
            delay = self._estate_retry.backoff_s(self._estate_failures, random.random())
            self._estate_failures += 1
            self._estate_due = now + delay
            log.warning(
                "%s; looking again in %.1f s, planning the last known estate (%d accounts)",
                exc,
                delay,
                len(self._estate),
            )
            return
        except ConfigError as exc:
            if not self._estate_known:
                raise  # nothing to plan with, and only a person can fix it: say so at start
            PLANNER_ESTATE_ERRORS.labels("permanent").inc()
            self._estate_due = now + self._config.estate_refresh_s
            log.error(  # noqa: TRY400 (the message is the whole story; no traceback)
                "%s; planning the last known estate (%d accounts) until the next lookup",
                exc,
                len(self._estate),
            )
            return
        self._estate_failures = 0
        self._estate = self._planner.discover(accounts)
        self._estate_known = True
        self._estate_due = now + self._config.estate_refresh_s
        shards = [unit.shard for unit in self._planner.plan("-", self._estate, utc_now())]
        self.schedule.sync(shards, now)
        log.info("estate: %d accounts, %d shards", len(accounts), len(shards))

    def _collect_outcomes(self) -> None:
        for sweep_id in self.schedule.in_flight_sweeps():
            for record in self._sweeps.progress(sweep_id).shards:
                finished = record.finished_at.timestamp() if record.finished_at else self._clock()
                shard = ShardKey(record.account_id, record.region, record.resource_type)
                self.schedule.finished(shard, sweep_id, record.status, finished)

    def _hold_back(self) -> bool:
        try:
            backlog = self._backlog()
        except Exception as exc:  # Kafka admin errors: do not pile on what cannot be measured
            log.warning("describer backlog unknown (%s); holding new sweeps back", exc)
            PLANNER_HOLDING.set(1)
            return True
        PLANNER_BACKLOG.set(backlog)
        limit = self._config.max_backlog
        holding = backlog > limit
        if holding:
            log.info("describer backlog %d > %d: holding new sweeps back", backlog, limit)
        PLANNER_HOLDING.set(int(holding))
        return holding

    def _issue(self, due: set[ShardKey], now: float) -> str:
        sweep_id = new_sweep_id()
        started = utc_now()
        units = [u for u in self._planner.plan(sweep_id, self._estate, started) if u.shard in due]
        emit_units(self._settings, self._producer, sweep_id, units)
        self._sweeps.record_sweep(sweep_id, len(units), started)
        for unit in units:
            self.schedule.issued(unit.shard, sweep_id, now)
        log.info("sweep %s: %d shards issued", sweep_id, len(units))
        return sweep_id

    def _export_ages(self, now: float) -> None:
        for kind, age in self.schedule.ages(now, self._config.stale_after_cadences).items():
            INVENTORY_AGE.labels(kind).set(age.oldest_s)
            STALE_SHARDS.labels(kind).set(age.stale_shards)
            PLANNER_IN_FLIGHT.labels(kind).set(age.in_flight)
        if self._settings.metrics.account_labels:
            for shard in self.schedule.shards:
                SHARD_AGE.labels(shard.account_id, shard.region, shard.resource_type).set(
                    self.schedule.age_of(shard, now)
                )


def build(settings: Settings, clock: Callable[[], float] = time.time) -> ContinuousPlanner:
    """The planner wired to Kafka, DynamoDB and AWS (tables created if missing)."""
    clients = AwsClients(settings.aws)
    entries = entries_for(settings.resource_types)
    ddb = dynamodb_client(settings)
    Tables(
        ddb, settings.sink.table, settings.sink.sweeps_table, settings.sink.seen_table_name
    ).ensure()
    ttl = timedelta(days=settings.sink.ttl_days)
    return ContinuousPlanner(
        settings,
        Planner(settings, clients, entries),
        entries,
        accounts=lambda: list_accounts(settings.accounts, clients),
        producer=kafka.make_producer(settings.kafka),
        sweeps=SweepStore(ddb, settings.sink.sweeps_table, ttl),
        backlog=DescriberBacklog(settings),
        clock=clock,
    )


def run(settings: Settings) -> None:
    """Run the long-running planner until SIGTERM/SIGINT."""
    kafka.preflight(settings.kafka)
    kafka.ensure_topics(settings.kafka)
    planner = build(settings)
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after this tick", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    port = serve(settings.metrics)
    log.info("planner started; metrics on port %d", port)
    planner.run(stop)
