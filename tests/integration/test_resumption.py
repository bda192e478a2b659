"""A describer SIGKILLed between two pages resumes at the page, not at the start of the shard."""

from __future__ import annotations

import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from devstack import StackEndpoints
from devstack.seed import EstateSpec, seed_estate
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.models import Observation, ShardStatus
from fleetstream.inventory.dynamodb import Tables
from fleetstream.inventory.sweeps import SweepProgress, SweepStore
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.workers import WorkerPool
from fleetstream.serde.wire import decode_resource_event
from producers.main import plan_sweep
from tests.integration.helpers import (
    aws_calls,
    inventory_facts,
    read_topic,
    set_faults,
    settings_for,
)

pytestmark = pytest.mark.integration
PAGE_SIZE = 5
INSTANCES = 30
PAGES = INSTANCES // PAGE_SIZE


Call = dict[str, Any]


def describe_calls(endpoint: str, account: str, since: float) -> list[Call]:
    return [
        c
        for c in aws_calls(endpoint)
        if c["action"] == "DescribeInstances" and c["account"] == account and c["at"] >= since
    ]


def kill_between_pages(
    pool: WorkerPool, endpoint: str, account: str, since: float, how: signal.Signals
) -> float:
    """Signal the describer once two pages are committed and a later one is in flight."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(describe_calls(endpoint, account, since)) < 3:
        time.sleep(0.05)
    victim = next(w for w in pool.workers if w.role == "describer")
    signalled = time.monotonic()
    victim.process.send_signal(how)
    code = victim.process.wait(timeout=30)
    if how is signal.SIGTERM:
        # Graceful: the batch in flight finishes and commits, then the process exits cleanly.
        assert code == 0
        assert time.monotonic() - signalled < 15
    pool.workers.remove(victim)
    assert len(describe_calls(endpoint, account, since)) < PAGES, "finished before the kill"
    return time.time()


def wait_finished(pool: WorkerPool, sweeps: SweepStore, sweep_id: str) -> SweepProgress:
    deadline = time.monotonic() + 120
    progress = sweeps.progress(sweep_id)
    while not progress.finished and time.monotonic() < deadline:
        pool.check()
        time.sleep(0.2)
        progress = sweeps.progress(sweep_id)
    return progress


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_killed_describer_resumes_at_the_page(
    how: signal.Signals,
    local_stack: StackEndpoints,
    pipeline: object,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate = seed_estate(
        endpoint,
        EstateSpec(
            member_accounts=1,
            regions=("eu-west-1",),
            paged_region="eu-west-1",
            paged_instances=INSTANCES,
        ),
    )
    account = estate.accounts[0].account_id
    settings = settings_for(
        monkeypatch,
        estate,
        FLEETSTREAM_DESCRIBER__PAGE_SIZE=str(PAGE_SIZE),
        FLEETSTREAM_DESCRIBER__BATCH_SIZE="1",
    )
    kafka.ensure_topics(settings.kafka)
    ddb = dynamodb_client(settings)
    Tables(ddb, settings.sink.table, settings.sink.sweeps_table).ensure()
    sweeps = SweepStore(ddb, settings.sink.sweeps_table, timedelta(days=1))
    # Slow pages give a wide window between two of them.
    set_faults(endpoint, {"latency_ms": {"DescribeInstances": 600}})
    pool = WorkerPool(None, log_dir)
    started = time.time()
    try:
        pool.start("sink", 1)
        pool.start("describer", 1)
        assert kafka.wait_for_group(settings.kafka, settings.describer.group_id, 1, 60)
        planned = plan_sweep(settings)
        killed_at = kill_between_pages(pool, endpoint, account, started, how)
        # The replacement takes the same replica id, fencing the dead one's transaction.
        pool.start("describer", 1)
        progress = wait_finished(pool, sweeps, planned.sweep_id)
    finally:
        set_faults(endpoint, {})
        pool.stop()

    assert progress.finished
    assert [s.status for s in progress.shards] == [ShardStatus.COMPLETE]
    assert progress.shards[0].resource_count == INSTANCES
    assert inventory_facts(settings) == estate.truth()

    calls = describe_calls(endpoint, account, started)
    assert len([c for c in calls if c["token"] is None]) == 1, "restarted from the first page"
    after_kill = [c for c in calls if c["at"] >= killed_at]
    assert after_kill
    assert after_kill[0]["token"] is not None
    # At most the one page that was in flight at a SIGKILL is described again; after a
    # SIGTERM the page in flight was finished and committed, so none is.
    repeats = 1 if how is signal.SIGKILL else 0
    assert PAGES <= len(calls) <= PAGES + repeats, calls

    # Exactly once on the resources topic: the killed page's transaction never became visible.
    messages = read_topic(settings, settings.kafka.topic("resources"))
    observations = [
        e
        for e in (decode_resource_event(m.value()) for m in messages)
        if isinstance(e, Observation)
    ]
    assert len(observations) == INSTANCES
    assert len({o.arn for o in observations}) == INSTANCES
