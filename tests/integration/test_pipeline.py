"""End to end on the real stack: planner -> Kafka -> describers -> Kafka -> sink -> DynamoDB."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from devstack import StackEndpoints
from devstack.seed import EstateSpec, seed_estate
from fleetstream.apps.oneshot import run_sweep
from fleetstream.base.config import Settings
from fleetstream.base.models import ShardStatus
from fleetstream.kafka.clients import ensure_topics
from tests.integration.helpers import (
    aws_calls,
    inventory_facts,
    produce_raw,
    read_topic,
    settings_for,
)

pytestmark = pytest.mark.integration


def test_sweep_of_a_multi_account_estate_matches_moto_exactly(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    assert local_stack.aws_endpoint
    estate = seed_estate(
        local_stack.aws_endpoint,
        EstateSpec(member_accounts=3, unassumable_accounts=1, paged_instances=23),
    )
    settings = settings_for(monkeypatch, estate, FLEETSTREAM_DESCRIBER__PAGE_SIZE="5")
    ensure_topics(settings.kafka)
    # Poison on both input topics: it must reach the DLQ and not stop the sweep.
    poison = [(b"111111111111/us-east-1/ec2.instance", b"\x00garbage"), (None, b"")]
    produce_raw(settings, settings.kafka.topic("work"), poison)
    produce_raw(settings, settings.kafka.topic("resources"), poison)

    started = time.time()
    result = run_sweep(
        settings, None, describers=2, sinks=2, timeout_s=240, log_dir=log_dir, echo=print
    )

    progress = result.progress
    assert progress.finished, f"sweep did not finish: {progress}"
    assumable = {a.account_id for a in estate.accounts if a.assumable}
    denied = {a.account_id for a in estate.accounts if not a.assumable}
    assert len(assumable) == 3
    assert len(denied) == 1
    # Every shard of every reachable account completed; the unreachable one failed, with why.
    complete = {
        (s.account_id, s.region) for s in progress.shards if s.status is ShardStatus.COMPLETE
    }
    assert complete == {(a, r) for a in assumable for r in estate.regions}
    failed = progress.failed
    assert {s.account_id for s in failed} == denied
    assert all(s.error_code == "RoleNotAssumable" for s in failed)
    assert all("cannot assume" in (s.reason or "") for s in failed)
    # The paged shard really spanned several pages (23 instances at 5 per page).
    paged = [s for s in progress.shards if s.resource_count == 23]
    assert len(paged) == 1
    assert paged[0].pages == 5
    # DynamoDB holds exactly moto's instances of the reachable accounts: no more, no less.
    truth = {fact for fact in estate.truth() if fact[0] in assumable}
    assert len(truth) == 3 * 3 * 3 - 3 + 23
    assert inventory_facts(settings) == truth
    assert progress.resources == len(truth)

    # One AssumeRole per account and process (planner + each describer), never one per page.
    paged_account = paged[0].account_id
    assume_calls = [
        c
        for c in aws_calls(local_stack.aws_endpoint)
        if c["action"] == "AssumeRole"
        and c["at"] >= started
        and c["role_arn"] == settings.aws.member_role_arn(paged_account)
    ]
    assert 1 <= len(assume_calls) <= 3, assume_calls

    dead = read_topic(settings, settings.kafka.topic("dlq"))
    assert len(dead) == 4
    headers = [dict(m.headers()) for m in dead]
    assert {h["fs.original.topic"].decode() for h in headers} == {
        settings.kafka.topic("work"),
        settings.kafka.topic("resources"),
    }
    for h in headers:
        assert h["fs.error.class"] == b"PoisonMessageError"
        assert {"fs.original.partition", "fs.original.offset", "fs.consumer.group"} <= set(h)

    # Every consumer exported per-partition lag, and it drained to zero.
    lag = [line for line in result.lag_lines if "fleetstream_consumer_lag{" in line]
    groups = {settings.describer.group_id, settings.sink.group_id}
    assert {g for g in groups if any(f'group="{g}"' in line for line in lag)} == groups
    partitions = {line.split("partition=")[1].split(",")[0] for line in lag if "describer" in line}
    assert len(partitions) == settings.kafka.partitions, lag
    assert all(line.endswith(" 0.0") for line in lag), lag
