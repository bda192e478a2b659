"""What a worker reads is untrusted and its partitions move: on the real stack, nothing stalls.

- Held pages (a retried page waiting on work-retry) are described when due, also after their
  partition moved to another describer and came back (rebalances).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from fleetstream import kafka
from fleetstream.config import Settings
from fleetstream.devstack import StackEndpoints
from fleetstream.devstack.seed import Estate, EstateSpec, seed_estate
from fleetstream.loop import NOT_BEFORE_HEADER, epoch_ms_header
from fleetstream.models import ShardOutcome, ShardStatus, WorkItem, utc_now
from fleetstream.records import Headers
from fleetstream.wire import decode_resource_event, encode_work_item
from fleetstream.workers import Worker, WorkerPool
from tests.integration.helpers import read_topic, settings_for

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
HELD_PAGES = 12
# Long enough for three more describers to join and leave while the pages are held.
HOLD_S = 60


def small_estate(stack: StackEndpoints) -> Estate:
    assert stack.aws_endpoint
    return seed_estate(
        stack.aws_endpoint,
        EstateSpec(member_accounts=1, regions=(REGION,), instances_per_region=2, paged_region=None),
    )


def page(estate: Estate, sweep_id: str, not_before: datetime | None = None) -> WorkItem:
    """The first page of the estate's EC2 shard, as a sweep of its own."""
    account = estate.accounts[0]
    now = utc_now()
    return WorkItem(
        sweep_id=sweep_id,
        account_id=account.account_id,
        region=REGION,
        resource_type="ec2.instance",
        shard_started_at=now,
        issued_at=now,
        attempt=0 if not_before is None else 1,
        not_before=not_before,
    )


def produce(
    settings: Settings, topic: str, records: Sequence[tuple[bytes, bytes, Headers]]
) -> None:
    producer = kafka.make_producer(settings.kafka)
    for key, value, headers in records:
        producer.produce(topic, value, key, headers=headers)
    assert producer.flush(10) == 0


def outcomes(settings: Settings) -> dict[str, ShardOutcome]:
    """The shard outcomes on the resources topic, by sweep id."""
    events = (decode_resource_event(m.value()) for m in read_topic(settings, resources(settings)))
    return {e.sweep_id: e for e in events if isinstance(e, ShardOutcome)}


def dead_letters(settings: Settings) -> dict[bytes, dict[str, bytes]]:
    """The DLQ's records' headers, by the original record's key."""
    return {
        m.key(): dict(m.headers())
        for m in read_topic(settings, settings.kafka.topic("dlq"), idle_s=1.0)
    }


def resources(settings: Settings) -> str:
    return settings.kafka.topic("resources")


def wait_for(
    what: str, found: Callable[[], bool], workers: Sequence[Worker], timeout_s: float
) -> None:
    """Wait until found() holds; fail with the workers' logs when it does not in time."""
    deadline = time.monotonic() + timeout_s
    while not found():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.role}-{w.index}:\n{w.tail(20)}" for w in workers)
            pytest.fail(f"{what}: not within {timeout_s:g}s\n{logs}")
        time.sleep(0.5)


def rebalance_by_more_describers(pool: WorkerPool, settings: Settings) -> None:
    """Three describers join and leave again: while four share the group's 12 partitions
    (work, work-retry, refresh: 4 each), the first keeps 3 of them, so at least one work-retry
    partition it held moves away, and comes back when they leave."""
    group = settings.describer.group_id
    first = pool.workers[0]
    pool.start("describer", 3)
    assert kafka.wait_for_group(settings.kafka, group, 4, 120), "the describers never joined"
    others = [w for w in pool.workers if w is not first]
    for worker in others:
        worker.process.send_signal(signal.SIGTERM)
    for worker in others:
        assert worker.process.wait(timeout=60) == 0
        pool.workers.remove(worker)
    assert kafka.wait_for_group(settings.kafka, group, 1, 120), "the group never settled back"


def test_held_pages_are_described_when_due_across_rebalances(
    local_stack: StackEndpoints, pipeline: Settings, monkeypatch: pytest.MonkeyPatch, log_dir: Path
) -> None:
    estate = small_estate(local_stack)
    settings = settings_for(monkeypatch, estate)
    kafka.ensure_topics(settings.kafka)
    pool = WorkerPool(None, log_dir)
    try:
        pool.start("describer", 1)
        assert kafka.wait_for_group(settings.kafka, settings.describer.group_id, 1, 90)
        due = utc_now() + timedelta(seconds=HOLD_S)
        held = [f"held-{i}" for i in range(HELD_PAGES)]
        # One key each, so the held pages spread over every work-retry partition.
        produce(
            settings,
            settings.kafka.topic("work-retry"),
            [(s.encode(), encode_work_item(page(estate, s, due)), held_header(due)) for s in held],
        )
        # A page produced after them and described: the describer has read (and held) them.
        produce(
            settings,
            settings.kafka.topic("work"),
            [(b"p", encode_work_item(page(estate, "probe")), [])],
        )
        wait_for(
            "the probe page described", lambda: "probe" in outcomes(settings), pool.workers, 90
        )

        rebalance_by_more_describers(pool, settings)
        assert utc_now() < due, f"the rebalances outlasted the {HOLD_S}s hold: raise HOLD_S"

        def all_described() -> bool:
            return set(held) <= set(outcomes(settings))

        wait_for("every held page described once due", all_described, pool.workers, HOLD_S + 60)
    finally:
        pool.stop()
    described = outcomes(settings)
    assert all(described[s].status is ShardStatus.COMPLETE for s in held)
    # Held until due: none was described before its time.
    assert all(described[s].finished_at >= due for s in held)


def held_header(due: datetime) -> Headers:
    return [(NOT_BEFORE_HEADER, epoch_ms_header(due))]
