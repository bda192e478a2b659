"""Safe deletion and throttling on the real stack: nothing lost, nothing wrongly deleted."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from devstack import StackEndpoints
from devstack.seed import Estate, EstateSpec, collect_truth, seed_estate
from fleetstream.base.config import Settings
from fleetstream.base.models import ShardStatus
from fleetstream.serde.wire import decode_work_item
from tests.integration.helpers import (
    aws_calls,
    inventory_facts,
    inventory_items,
    member_client,
    read_topic,
    set_faults,
    settings_for,
    sweep,
)

pytestmark = pytest.mark.integration
REGIONS = ("us-east-1", "eu-west-1")
STORM_SEED = 4


def small_estate(endpoint: str) -> Estate:
    return seed_estate(
        endpoint,
        EstateSpec(member_accounts=2, regions=REGIONS, instances_per_region=3, paged_region=None),
    )


def test_deletions_only_where_the_shard_completed(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate = small_estate(endpoint)
    settings = settings_for(monkeypatch, estate)
    first = sweep(settings, log_dir)
    assert first.ok
    assert inventory_facts(settings) == estate.truth()

    healthy, failing = estate.accounts[0].account_id, estate.accounts[1].account_id
    gone = estate.instances_of(healthy, "us-east-1")[0].instance_id
    gone_while_failing = estate.instances_of(failing, "eu-west-1")[0].instance_id
    member_client(endpoint, healthy, "ec2", "us-east-1").terminate_instances(InstanceIds=[gone])
    member_client(endpoint, failing, "ec2", "eu-west-1").terminate_instances(
        InstanceIds=[gone_while_failing]
    )
    denied = {
        "action": "DescribeInstances",
        "account": failing,
        "region": "eu-west-1",
        "rate": 1.0,
        "code": "UnauthorizedOperation",
        "status": 403,
    }
    set_faults(endpoint, {"errors": [denied]})
    try:
        second = sweep(settings, log_dir)
    finally:
        set_faults(endpoint, {})

    assert second.progress.finished
    failed = second.progress.failed
    assert [(s.account_id, s.region, s.error_code) for s in failed] == [
        (failing, "eu-west-1", "UnauthorizedOperation")
    ]
    items = inventory_items(settings)
    # Gone from a shard that completed: tombstoned, with when and by which sweep.
    assert "deleted_at" in items[gone]
    assert items[gone]["deleted_by_sweep"]["S"] == second.progress.sweep_id
    # Gone from a shard that failed: kept as it was, not deleted, not reported as zero.
    assert "deleted_at" not in items[gone_while_failing]
    tombstoned = {rid for rid, item in items.items() if "deleted_at" in item}
    assert tombstoned == {gone}
    # Everything else is still there, unchanged.
    live = {fact for fact in estate.truth() if fact[2] not in {gone, gone_while_failing}}
    assert live <= inventory_facts(settings)

    # A third, clean sweep tombstones the second one too, now that its shard completes.
    third = sweep(settings, log_dir)
    assert third.ok
    items = inventory_items(settings)
    assert {rid for rid, item in items.items() if "deleted_at" in item} == {
        gone,
        gone_while_failing,
    }
    assert inventory_facts(settings) == collect_truth(endpoint, estate)


def test_a_throttling_storm_slows_the_sweep_but_loses_nothing(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate = seed_estate(
        endpoint,
        EstateSpec(
            member_accounts=2, regions=REGIONS, paged_region="eu-west-1", paged_instances=12
        ),
    )
    settings = settings_for(
        monkeypatch,
        estate,
        FLEETSTREAM_DESCRIBER__PAGE_SIZE="5",
        FLEETSTREAM_DESCRIBER__RETRY_BASE_S="0.2",
        FLEETSTREAM_DESCRIBER__RETRY_MAX_ATTEMPTS="40",
        FLEETSTREAM_AWS__MAX_ATTEMPTS="1",
    )
    storm = {"action": "DescribeInstances", "rate": 0.6, "code": "RequestLimitExceeded"}
    # Seeded: the first 5 draws of Random(4) are all below 0.6, so the sweep's first 5 calls are
    # throttled whatever else happens. Unseeded, the 6-page sweep sometimes drew 2 throttles
    # in all and "the storm did not happen" (3 runs of 7 on 2026-12-02).
    set_faults(endpoint, {"errors": [storm], "seed": STORM_SEED})
    try:
        result = sweep(settings, log_dir)
    finally:
        set_faults(endpoint, {})

    assert result.progress.finished
    assert result.progress.failed == ()
    assert all(s.status is ShardStatus.COMPLETE for s in result.progress.shards)
    assert inventory_facts(settings) == estate.truth()
    # With one attempt per call, every throttled call of a committed batch became one delayed
    # retry of the same page, and every retried page completed (the inventory is exact).
    retries = [
        decode_work_item(m.value())
        for m in read_topic(settings, settings.kafka.topic("work-retry"))
    ]
    accounts = {a.account_id for a in estate.accounts}
    calls = [
        c
        for c in aws_calls(endpoint)
        if c["action"] == "DescribeInstances" and c["account"] in accounts
    ]
    throttled = sum(c.get("injected") == "RequestLimitExceeded" for c in calls)
    seen = f"{throttled} of {len(calls)} DescribeInstances calls throttled, {len(retries)} retries"
    assert len(retries) >= 3, f"the storm did not happen: {seen}"
    assert all(r.attempt >= 1 and "RequestLimitExceeded" in (r.last_error or "") for r in retries)


def test_a_closed_accounts_items_are_marked_and_kept_through_the_grace(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate = small_estate(endpoint)
    settings = settings_for(monkeypatch, estate)
    assert sweep(settings, log_dir).ok
    staying, leaving = estate.accounts[0].account_id, estate.accounts[1].account_id
    organizations = boto3.client("organizations", endpoint_url=endpoint, region_name="us-east-1")
    organizations.close_account(AccountId=leaving)

    second = sweep(settings, log_dir)

    assert second.ok, "a gone account is reported, not failed"
    gone = [s for s in second.progress.shards if s.status is ShardStatus.ACCOUNT_GONE]
    assert [(s.account_id, s.region) for s in gone] == [(leaving, "*")]
    assert "SUSPENDED" in (gone[0].reason or "")
    items = inventory_items(settings)
    leaving_items = [i for i in items.values() if i["account_id"]["S"] == leaving]
    assert len(leaving_items) == len(estate.instances_of(leaving))
    for item in leaving_items:
        assert item["account_status"]["S"] == "SUSPENDED"
        # Marked, not deleted: observed within sink.gone_account_grace_s (7 days) of the
        # outcome. Past the grace an ACCOUNT_GONE outcome deletes them with reason
        # account_gone (tests/integration/test_unreachable_shards.py; docs/expiry.md).
        assert "deleted_at" not in item
    for item in items.values():
        if item["account_id"]["S"] == staying:
            assert "account_status" not in item
            assert "deleted_at" not in item
