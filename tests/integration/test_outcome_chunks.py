"""Outcome work longer than max.poll.interval.ms, on the real stack: the sink stays in its
group while it tombstones or marks thousands of items, and commits the outcome once done."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings, load_settings
from fleetstream.base.models import ShardOutcome, ShardStatus, utc_now
from fleetstream.inventory.dynamodb import Tables, chunks
from fleetstream.inventory.read import scan_items
from fleetstream.inventory.sweeps import SweepStore
from fleetstream.kafka import clients as kafka
from fleetstream.serde.wire import encode_resource_event
from tests.integration.group_offsets import committed_offsets, end_offsets
from tests.integration.helpers import ACCOUNT, ec2_observation, inventory_items, produce_raw
from tests.integration.test_deletion_evidence import produce_events, sink_loop

pytestmark = pytest.mark.integration

# The broker's smallest session timeout (group.min.session.timeout.ms); librdkafka wants
# max.poll.interval.ms at least as long.
POLL_INTERVAL_MS = 6000
ITEMS = 3000  # tombstoning these takes longer than a poll interval on DynamoDB Local
SHARD = f"{ACCOUNT}/us-east-1/ec2.instance"


def short_poll_interval(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with the shortest poll interval the broker allows; topics and tables made."""
    client = {
        "session.timeout.ms": POLL_INTERVAL_MS,
        "max.poll.interval.ms": POLL_INTERVAL_MS,
        "heartbeat.interval.ms": 1000,
    }
    monkeypatch.setenv("FLEETSTREAM_KAFKA__CLIENT", json.dumps(client))
    settings = load_settings(None)
    kafka.ensure_topics(settings.kafka)
    Tables(
        dynamodb_client(settings),
        settings.sink.table,
        settings.sink.sweeps_table,
        settings.sink.seen_table_name,
    ).ensure()
    return settings


def seed_items(
    settings: Settings,
    count: int,
    observed_ms: int,
    *,
    name: str = "i",
    expires_at: int | None = None,
) -> list[str]:
    """count live items of SHARD, last observed at observed_ms, straight into the table (with
    expires_at: the TTL an older version wrote on live items); their ARNs."""
    ddb = dynamodb_client(settings)

    def arn(n: int) -> str:
        return f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{name}-{n:08d}"

    def item(n: int) -> dict[str, Any]:
        ttl = {"expires_at": {"N": str(expires_at)}} if expires_at is not None else {}
        return {
            "arn": {"S": arn(n)},
            "shard": {"S": SHARD},
            "account_id": {"S": ACCOUNT},
            "region": {"S": "us-east-1"},
            "resource_type": {"S": "ec2.instance"},
            "resource_id": {"S": arn(n).rpartition("/")[2]},
            "sweep_id": {"S": "sweep-before"},
            "observed_at_ms": {"N": str(observed_ms)},
            "fingerprint": {"S": "f"},
            **ttl,
        }

    def write(part: Any) -> None:
        pending = {settings.sink.table: [{"PutRequest": {"Item": item(n)}} for n in part]}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, chunks(range(count), 25)))
    return [arn(n) for n in range(count)]


def shard_outcome(sweep_id: str, status: ShardStatus, now: datetime, **more: Any) -> ShardOutcome:
    """An outcome of SHARD that finished now."""
    return ShardOutcome(
        sweep_id=sweep_id,
        account_id=ACCOUNT,
        region="us-east-1",
        resource_type="ec2.instance",
        status=status,
        resource_count=0,
        pages=more.pop("pages", 0),
        shard_started_at=now - timedelta(seconds=5),
        finished_at=now,
        **more,
    )


def run_outcome(settings: Settings, outcome: ShardOutcome) -> tuple[float, float]:
    """The outcome through the sink's loop until recorded and committed, the sink never
    evicted meanwhile; (seconds taken, evictions)."""
    group = settings.sink.group_id

    def evictions() -> float:
        return rebalances(group, "lost") + rebalances(group, "revoke")

    before = evictions()
    sweeps = SweepStore(dynamodb_client(settings), settings.sink.sweeps_table, timedelta(days=1))
    started = time.monotonic()
    with sink_loop(settings) as sink:
        produce_events(settings, [outcome])
        deadline = time.monotonic() + 300
        while not (sweeps.progress(outcome.sweep_id).shards and outcome_committed(settings)):
            evicted = evictions() - before
            assert not evicted, f"the sink lost its partitions mid-outcome ({evicted} times)"
            assert sink.is_alive(), "the sink's loop ended"
            assert time.monotonic() < deadline, "outcome not committed"
            time.sleep(0.5)
        # Before the loop stops: closing the consumer counts as a revoke.
        return time.monotonic() - started, evictions() - before


def rebalances(group: str, kind: str) -> float:
    value = REGISTRY.get_sample_value(
        "fleetstream_consumer_rebalances_total", {"group": group, "kind": kind}
    )
    return value or 0.0


def outcome_committed(settings: Settings) -> bool:
    topic = settings.kafka.topic("resources")
    ends = end_offsets(settings, topic)
    committed = committed_offsets(settings, settings.sink.group_id, topic)
    return all(committed.get(p, -1) >= end for p, end in ends.items() if end > 0)


def test_a_long_tombstoning_outcome_keeps_the_sink_in_its_group(
    pipeline: Settings, monkeypatch: pytest.MonkeyPatch, measurements: list[str]
) -> None:
    settings = short_poll_interval(monkeypatch)
    assert kafka.consumer_config(settings.kafka, "g")["max.poll.interval.ms"] == POLL_INTERVAL_MS
    ddb = dynamodb_client(settings)
    now = utc_now()
    seed_items(settings, ITEMS, int((now - timedelta(hours=1)).timestamp() * 1000))
    # Nothing of the shard was seen by this sweep: every item is gone.
    complete = shard_outcome(
        "sweep-long",
        ShardStatus.COMPLETE,
        now,
        pages=1,
        described_from=now - timedelta(seconds=5),
    )
    took, evicted = run_outcome(settings, complete)
    deleted = sum(1 for i in scan_items(ddb, settings.sink.table) if "deleted_at_ms" in i)
    line = (
        f"outcome tombstoning {ITEMS} items with max.poll.interval.ms={POLL_INTERVAL_MS}: "
        f"done and committed in {took:.1f}s, {deleted} tombstoned, {evicted:.0f} evictions"
    )
    print(line)
    measurements.append(line)
    assert evicted == 0
    assert deleted == ITEMS


def test_b_an_older_gone_account_outcome_never_marks_a_newer_observation(
    pipeline: Settings,
) -> None:
    """The item was observed (the account is back) after the describer found the account
    gone: the outcome, processed late (by a sink that lost the partition, or redelivered),
    must leave that newer observation unmarked, and still mark the older ones."""
    kafka.ensure_topics(pipeline.kafka)
    now = utc_now()
    newer = ec2_observation("i-newer", now)
    older = ec2_observation("i-older", now - timedelta(minutes=5))
    gone = ShardOutcome(
        sweep_id="sweep-gone",
        account_id=ACCOUNT,
        region="us-east-1",
        resource_type="ec2.instance",
        status=ShardStatus.ACCOUNT_GONE,
        resource_count=0,
        pages=0,
        shard_started_at=now - timedelta(minutes=2),
        finished_at=now - timedelta(minutes=1),
        error_code="AccountSuspended",
    )
    sweeps = SweepStore(dynamodb_client(pipeline), pipeline.sink.sweeps_table, timedelta(days=1))
    with sink_loop(pipeline):
        produce_events(pipeline, [older, newer])
        deadline = time.monotonic() + 60
        while len(inventory_items(pipeline)) < 2:
            assert time.monotonic() < deadline, "observations not written"
            time.sleep(0.25)
        # The planner's topic: the observations are on another one, so only once they are in.
        produce_raw(
            pipeline,
            pipeline.kafka.topic("plan-outcomes"),
            [(str(gone.shard).encode(), encode_resource_event(gone))],
        )
        deadline = time.monotonic() + 60
        while not sweeps.progress(gone.sweep_id).shards:
            assert time.monotonic() < deadline, "outcome not recorded"
            time.sleep(0.25)
    items = inventory_items(pipeline)
    status = {rid: item.get("account_status", {}).get("S") for rid, item in items.items()}
    print(f"after a gone-account outcome older than i-newer: {status}")
    assert status == {"i-older": "SUSPENDED", "i-newer": None}


def test_c_a_failed_shard_is_retired_in_chunks_and_loses_only_its_legacy_ttls(
    pipeline: Settings, monkeypatch: pytest.MonkeyPatch, measurements: list[str]
) -> None:
    """A FAILED outcome of a shard with thousands of stale items (sink.max_stale_s on): the
    sink reads and retires them a chunk at a time, stays in its group, and deletes exactly
    the stale ones; the recent ones only lose the TTL an older version wrote."""
    day_ms = 86_400_000
    monkeypatch.setenv("FLEETSTREAM_SINK__MAX_STALE_S", str(86_400 * 3 // 2))
    settings = short_poll_interval(monkeypatch)
    ddb = dynamodb_client(settings)
    now = utc_now()
    now_ms = int(now.timestamp() * 1000)
    seed_items(settings, ITEMS, now_ms - 2 * day_ms)  # stale: observed 2 days ago
    # Live, observed a minute ago, with the TTL an older version wrote.
    recent = seed_items(
        settings, 30, now_ms - 60_000, name="i-recent", expires_at=now_ms // 1000 + 3600
    )
    failed = shard_outcome("sweep-failed", ShardStatus.FAILED, now, error_code="AccessDenied")
    chunks_before = outcome_chunks("stale")
    took, evicted = run_outcome(settings, failed)
    used = outcome_chunks("stale") - chunks_before
    items = list(scan_items(ddb, settings.sink.table))
    stale = {i["arn"]["S"] for i in items if i.get("deleted_reason", {}).get("S") == "stale"}
    kept = {i["arn"]["S"]: i for i in items if "deleted_at_ms" not in i}
    line = (
        f"FAILED outcome retiring {ITEMS} stale items of {ITEMS + len(recent)} with "
        f"max.poll.interval.ms={POLL_INTERVAL_MS}: done and committed in {took:.1f}s, "
        f"{len(stale)} deleted, {used:.0f} chunks, {evicted:.0f} evictions"
    )
    print(line)
    measurements.append(line)
    assert evicted == 0
    chunk_size = settings.sink.outcome_chunk_size
    assert used >= -(-(ITEMS + len(recent)) // chunk_size)  # every item read, a chunk at a time
    assert len(stale) == ITEMS and not stale & set(recent)
    assert sorted(kept) == sorted(recent)
    assert not [arn for arn, item in kept.items() if "expires_at" in item]


def outcome_chunks(kind: str) -> float:
    value = REGISTRY.get_sample_value("fleetstream_sink_outcome_chunks_total", {"kind": kind})
    return value or 0.0
