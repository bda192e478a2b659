"""Deletion evidence on the real stack: clocks of other hosts never decide a deletion, and a
sweep over an unchanged estate rewrites (almost) nothing while deleting exactly what is gone."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from consumers.sink.main import build
from devstack import StackEndpoints
from devstack.seed import EstateSpec, seed_estate
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.models import (
    CLOCK_OFFSET_ENV,
    ResourceEvent,
    ShardOutcome,
    ShardStatus,
    WorkItem,
    utc_now,
)
from fleetstream.inventory.dynamodb import Tables
from fleetstream.inventory.read import scan_items
from fleetstream.inventory.sweeps import SweepStore
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.workers import WorkerPool
from fleetstream.serde.wire import (
    ChangeType,
    decode_change_event,
    encode_resource_event,
    encode_work_item,
)
from producers.main import plan_sweep
from tests.integration.helpers import (
    ACCOUNT,
    ec2_observation,
    member_client,
    produce_raw,
    read_topic,
    settings_for,
    sweep,
)

pytestmark = pytest.mark.integration
PLANNER_AHEAD_S = 8  # well beyond any margin: the planner's clock runs 8 s fast


def change_types(settings: Settings) -> dict[ChangeType, set[str]]:
    found: dict[ChangeType, set[str]] = {t: set() for t in ChangeType}
    for message in read_topic(settings, settings.kafka.topic("changes")):
        event = decode_change_event(message.value())
        found[event.change_type].add(event.resource_id)
    return found


def live_ids(settings: Settings) -> set[str]:
    return {
        item["resource_id"]["S"]
        for item in scan_items(dynamodb_client(settings), settings.sink.table)
        if "deleted_at_ms" not in item
    }


@contextmanager
def running_workers(settings: Settings, log_dir: Path) -> Iterator[WorkerPool]:
    """One describer and one sink process on true time, until the block ends."""
    kafka.ensure_topics(settings.kafka)
    ddb = dynamodb_client(settings)
    Tables(ddb, settings.sink.table, settings.sink.sweeps_table).ensure()
    pool = WorkerPool(None, log_dir)
    try:
        pool.start("describer", 1)
        pool.start("sink", 1)
        for group in (settings.describer.group_id, settings.sink.group_id):
            assert kafka.wait_for_group(settings.kafka, group, 1, 60), group
        yield pool
    finally:
        pool.stop()


def wait_finished(settings: Settings, pool: WorkerPool, sweep_id: str) -> None:
    sweeps = SweepStore(dynamodb_client(settings), settings.sink.sweeps_table, timedelta(days=1))
    deadline = time.monotonic() + 180
    while not (progress := sweeps.progress(sweep_id)).finished:
        assert time.monotonic() < deadline, progress
        pool.check()
        time.sleep(0.25)
    assert not progress.failed, progress.failed


def plan_with_skewed_clock(offset_s: float) -> str:
    """`fleetstream plan` in its own process, its clock offset_s seconds off; the sweep id."""
    env = {**os.environ, CLOCK_OFFSET_ENV: str(offset_s)}
    done = subprocess.run(
        [sys.executable, "-m", "fleetstream", "plan"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def small_estate(endpoint: str) -> Any:
    return seed_estate(
        endpoint,
        EstateSpec(
            member_accounts=1,
            regions=("us-east-1", "eu-west-1"),
            instances_per_region=3,
            paged_region="eu-west-1",
            paged_instances=12,
        ),
    )


def test_a_planner_clock_ahead_deletes_nothing(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    assert local_stack.aws_endpoint
    estate = small_estate(local_stack.aws_endpoint)
    settings = settings_for(monkeypatch, estate)
    instances = {i.instance_id for i in estate.instances}
    with running_workers(settings, log_dir) as pool:
        # The planner's clock runs ahead; the describers' clock is true.
        skewed = plan_with_skewed_clock(PLANNER_AHEAD_S)
        wait_finished(settings, pool, skewed)
    found = change_types(settings)
    print(f"planner {PLANNER_AHEAD_S}s ahead: {len(found[ChangeType.DELETED])} DELETED")
    assert found[ChangeType.DELETED] == set(), sorted(found[ChangeType.DELETED])
    assert found[ChangeType.CREATED] == instances
    assert live_ids(settings) == instances


def test_a_work_item_with_a_far_future_start_pins_no_shard(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    assert local_stack.aws_endpoint
    estate = small_estate(local_stack.aws_endpoint)
    settings = settings_for(monkeypatch, estate)
    instances = {i.instance_id for i in estate.instances}
    sweeps = SweepStore(dynamodb_client(settings), settings.sink.sweeps_table, timedelta(days=1))
    with running_workers(settings, log_dir) as pool:
        wait_finished(settings, pool, plan_sweep(settings).sweep_id)
        # A work item whose shard start is a year ahead (a wrong clock, or a forged record).
        now = utc_now()
        future = WorkItem(
            sweep_id="sweep-from-the-future",
            account_id=estate.accounts[0].account_id,
            region="us-east-1",
            resource_type="ec2.instance",
            shard_started_at=now + timedelta(days=365),
            issued_at=now,
        )
        sweeps.record_sweep(future.sweep_id, 1, now)
        producer = kafka.make_producer(settings.kafka)
        producer.produce(
            settings.kafka.topic("work"),
            key=future.budget_key.encode(),
            value=encode_work_item(future),
        )
        assert producer.flush(30) == 0
        wait_finished(settings, pool, future.sweep_id)
        # A sweep on true time afterwards: every instance is live, nothing was pinned.
        wait_finished(settings, pool, plan_sweep(settings).sweep_id)
    found = change_types(settings)
    print(f"after a future-start item and a true sweep: {len(found[ChangeType.DELETED])} DELETED")
    assert found[ChangeType.DELETED] == set(), sorted(found[ChangeType.DELETED])
    assert live_ids(settings) == instances


def value_bytes(value: Any) -> int:
    """Roughly DynamoDB's size of one attribute value (type descriptors included)."""
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, dict):
        return sum(len(key) + value_bytes(child) for key, child in value.items())
    if isinstance(value, list):
        return sum(value_bytes(child) for child in value)
    return len(str(value).encode())


def item_bytes(item: dict[str, Any]) -> int:
    """Roughly DynamoDB's item size: attribute names plus value sizes."""
    return sum(len(name) + value_bytes(value) for name, value in item.items())


def write_units(items: list[dict[str, Any]]) -> int:
    """What writing these items costs on AWS: one write unit per started KB of each item."""
    return sum(-(-item_bytes(item) // 1024) for item in items)


def test_b_an_unchanged_estate_is_not_rewritten_and_deletions_stay_exact(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
    measurements: list[str],
) -> None:
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate = seed_estate(
        endpoint,
        EstateSpec(
            member_accounts=1,
            regions=("us-east-1", "eu-west-1"),
            instances_per_region=4,
            paged_region="eu-west-1",
            paged_instances=23,
        ),
    )
    # What skipping unchanged writes saves is measured here: enabled explicitly.
    settings = settings_for(monkeypatch, estate, FLEETSTREAM_SINK__SKIP_UNCHANGED="true")
    assert settings.sink.skip_unchanged
    ddb = dynamodb_client(settings)
    sweep(settings, log_dir, ok=True)
    first = {i["arn"]["S"]: i for i in scan_items(ddb, settings.sink.table)}
    events_before = sum(len(ids) for ids in change_types(settings).values())

    second_sweep = sweep(settings, log_dir, ok=True).progress.sweep_id
    second = {i["arn"]["S"]: i for i in scan_items(ddb, settings.sink.table)}
    marks = [
        m
        for m in scan_items(ddb, settings.sink.seen_table_name)
        if m["sweep_id"]["S"] == second_sweep
    ]
    rewritten = [
        item
        for arn, item in second.items()
        if item["observed_at_ms"] != first[arn]["observed_at_ms"]
    ]
    events_after = sum(len(ids) for ids in change_types(settings).values())
    line = (
        f"second sweep of an unchanged estate: {len(rewritten)}/{len(second)} items rewritten "
        f"(~{write_units(rewritten)} write units on AWS, first sweep "
        f"~{write_units(list(first.values()))}), {events_after - events_before} change events; "
        f"{len(marks)} seen marks (~{write_units(marks)} write units)"
    )
    print(line)
    measurements.append(line)
    assert len(rewritten) <= 0.05 * len(second)
    assert events_after == events_before

    account = estate.accounts[0].account_id
    gone: set[str] = set()
    for region in ("us-east-1", "eu-west-1"):
        ids = [i.instance_id for i in estate.instances_of(account, region)][:2]
        member_client(endpoint, account, "ec2", region).terminate_instances(InstanceIds=ids)
        gone.update(ids)
    sweep(settings, log_dir, ok=True)
    found = change_types(settings)
    assert found[ChangeType.DELETED] == gone
    assert live_ids(settings) == {i.instance_id for i in estate.instances} - gone


def test_c_times_from_the_future_are_refused(pipeline: Settings) -> None:
    kafka.ensure_topics(pipeline.kafka)
    now = utc_now()
    tomorrow = now + timedelta(days=1)
    present = ec2_observation("i-present", now)
    future = ec2_observation("i-future", tomorrow)
    skewed = ShardOutcome(
        sweep_id="sweep-skewed",
        account_id=ACCOUNT,
        region="us-east-1",
        resource_type="ec2.instance",
        status=ShardStatus.COMPLETE,
        resource_count=2,
        pages=1,
        shard_started_at=now,
        finished_at=tomorrow,
        described_from=tomorrow,
    )
    produce_raw(
        pipeline,
        pipeline.kafka.topic("resources"),
        [(str(e.shard).encode(), encode_resource_event(e)) for e in (present, future, skewed)],
    )
    sweeps = SweepStore(dynamodb_client(pipeline), pipeline.sink.sweeps_table, timedelta(days=1))
    sink = build(pipeline)
    worker = threading.Thread(target=sink.run, daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while not sweeps.progress(skewed.sweep_id).shards and time.monotonic() < deadline:
            time.sleep(0.25)
    finally:
        sink.stop()
        worker.join(30)
        sink.producer.flush(10)
        del sink
        gc.collect()
    dead = read_topic(pipeline, pipeline.kafka.topic("dlq"))
    reasons = [dict(m.headers() or []).get("fs.error.message", b"").decode() for m in dead]
    [record] = sweeps.progress(skewed.sweep_id).shards
    print(f"dead letters: {reasons}; live: {sorted(live_ids(pipeline))}")
    print(f"future outcome recorded as {record.status} {record.error_code}: {record.reason}")
    assert len(dead) == 1 and dead[0].value() == encode_resource_event(future), reasons
    assert "ahead of the sink's clock" in reasons[0]
    assert (record.status, record.error_code) == (ShardStatus.FAILED, "ClockSkew")
    # Nothing deleted, nothing from the future written.
    assert live_ids(pipeline) == {"i-present"}
    assert change_types(pipeline)[ChangeType.DELETED] == set()


def produce_events(settings: Settings, events: list[ResourceEvent]) -> None:
    """Produce resource events to the resources topic, keyed by shard as the describer does."""
    produce_raw(
        settings,
        settings.kafka.topic("resources"),
        [(str(e.shard).encode(), encode_resource_event(e)) for e in events],
    )


@contextmanager
def sink_loop(settings: Settings) -> Iterator[threading.Thread]:
    """The sink's consumer loop (the one a sink process runs) on a thread, until the block ends.
    The thread ends early only where the sink process would exit: an error escaped the loop."""
    sink = build(settings)
    worker = threading.Thread(target=sink.run, daemon=True)
    worker.start()
    try:
        yield worker
    finally:
        sink.stop()
        worker.join(30)
        sink.producer.flush(10)
        del sink
        gc.collect()


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.25)


def test_d_a_refused_future_observation_keeps_its_resource(pipeline: Settings) -> None:
    """Page 2 of a shard described by a describer a day ahead: its observation is refused, and
    the sweep's COMPLETE outcome must not take that as "not seen"."""
    kafka.ensure_topics(pipeline.kafka)
    now = utc_now()
    earlier = replace(ec2_observation("i-2", now - timedelta(hours=1)), sweep_id="sweep-earlier")
    page_1 = replace(ec2_observation("i-1", now), sweep_id="sweep-now")
    page_2 = replace(ec2_observation("i-2", now + timedelta(days=1)), sweep_id="sweep-now")
    complete = ShardOutcome(
        sweep_id="sweep-now",
        account_id=ACCOUNT,
        region="us-east-1",
        resource_type="ec2.instance",
        status=ShardStatus.COMPLETE,
        resource_count=2,
        pages=2,
        shard_started_at=now - timedelta(seconds=5),
        finished_at=now,
        described_from=now - timedelta(seconds=5),
    )
    sweeps = SweepStore(dynamodb_client(pipeline), pipeline.sink.sweeps_table, timedelta(days=1))
    with sink_loop(pipeline):
        produce_events(pipeline, [earlier])
        wait_until(lambda: "i-2" in live_ids(pipeline), "i-2 written by an earlier batch")
        produce_events(pipeline, [page_1, page_2, complete])
        wait_until(lambda: sweeps.progress(complete.sweep_id).shards, "outcome recorded")
    dead = read_topic(pipeline, pipeline.kafka.topic("dlq"))
    found = change_types(pipeline)
    print(
        f"future page-2 observation: {len(dead)} dead-lettered, "
        f"DELETED {sorted(found[ChangeType.DELETED])}, live {sorted(live_ids(pipeline))}"
    )
    # The batch that held the outcome had its records produced (its dead letter is there).
    assert [m.value() for m in dead] == [encode_resource_event(page_2)]
    assert found[ChangeType.CREATED] == {"i-1", "i-2"}
    assert found[ChangeType.DELETED] == set()
    assert live_ids(pipeline) == {"i-1", "i-2"}
    refusals = [
        m
        for m in scan_items(dynamodb_client(pipeline), pipeline.sink.seen_table_name)
        if "refused" in m
    ]
    assert [(m["sweep_id"]["S"], m["count"]["N"]) for m in refusals] == [("sweep-now", "1")]


def test_e_by_default_a_second_sweep_rewrites_unchanged_items_and_emits_nothing(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    """Default settings (sink.skip_unchanged off): every unchanged item gets a fresh
    observed_at, so an older sink running after a rollback (whose deletion compares
    observed_at with the shard start) still sees it as seen."""
    assert local_stack.aws_endpoint
    estate = small_estate(local_stack.aws_endpoint)
    settings = settings_for(monkeypatch, estate)
    ddb = dynamodb_client(settings)
    sweep(settings, log_dir, ok=True)
    first = {i["arn"]["S"]: i for i in scan_items(ddb, settings.sink.table)}
    events_before = sum(len(ids) for ids in change_types(settings).values())
    sweep(settings, log_dir, ok=True)
    second = {i["arn"]["S"]: i for i in scan_items(ddb, settings.sink.table)}
    rewritten = [
        arn
        for arn, item in second.items()
        if item["observed_at_ms"] != first[arn]["observed_at_ms"]
    ]
    events_after = sum(len(ids) for ids in change_types(settings).values())
    print(
        f"default settings, second sweep: {len(rewritten)}/{len(second)} items rewritten, "
        f"{events_after - events_before} change events"
    )
    assert sorted(rewritten) == sorted(first)
    assert events_after == events_before
