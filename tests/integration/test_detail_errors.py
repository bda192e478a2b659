"""A detail call refused for one item degrades that item, never its shard.

The devstack enforces explicit Deny statements of bucket policies (moto alone does not), so a
bucket whose policy denies s3:GetBucketLocation to the member role is refused like in AWS.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from consumers.describer.handler import Describer
from consumers.describer.main import redaction_key
from devstack import StackEndpoints
from devstack.seed import Estate, EstateSpec, seed_estate
from fleetstream.apps.oneshot import SweepResult, run_sweep
from fleetstream.aws.clients import AwsClients
from fleetstream.base.config import Settings, load_settings
from fleetstream.base.models import GLOBAL_REGION, ShardStatus, WorkItem
from fleetstream.catalog.s3 import BUCKET
from tests.integration.helpers import (
    aws_calls,
    inventory_items,
    member_client,
    set_faults,
    settings_for,
)

pytestmark = pytest.mark.integration
MARK = "fleetstream:detail_errors"
REFUSED = "fleetstream_detail_calls_refused_total"


def estate_with_buckets(endpoint: str, tag: str) -> tuple[Estate, dict[str, str]]:
    """One member account with three buckets; its member role may not locate the second."""
    estate = seed_estate(
        endpoint,
        EstateSpec(
            member_accounts=1, regions=("us-east-1",), instances_per_region=1, paged_region=None
        ),
    )
    account = estate.accounts[0]
    s3 = member_client(endpoint, account.account_id, "s3", "us-east-1")
    buckets = {
        f"fs-{tag}-open-us": "us-east-1",
        f"fs-{tag}-denied-eu": "eu-west-1",
        f"fs-{tag}-open-eu": "eu-west-1",
    }
    for name, region in buckets.items():
        where = (
            {}
            if region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        s3.create_bucket(Bucket=name, **where)
    denied = f"fs-{tag}-denied-eu"
    s3.put_bucket_policy(
        Bucket=denied,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": {"AWS": account.role_arn},
                        "Action": "s3:GetBucketLocation",
                        "Resource": f"arn:aws:s3:::{denied}",
                    }
                ],
            }
        ),
    )
    return estate, buckets


def configure(monkeypatch: pytest.MonkeyPatch, estate: Estate, where: Path, **env: str) -> Path:
    """Sweep only S3 buckets (resource_types travels in a config file)."""
    config = where / "buckets.yaml"
    config.write_text(json.dumps({"resource_types": ["s3.bucket"]}))
    settings_for(monkeypatch, estate, **env)
    return config


def sweep(config: Path, log_dir: Path) -> SweepResult:
    result = run_sweep(
        load_settings(config),
        config,
        describers=1,
        sinks=1,
        timeout_s=240,
        log_dir=log_dir,
        echo=print,
    )
    assert result.progress.finished, result.progress
    return result


def attributes(item: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(item["attributes"]["S"])
    return found


def test_a_denied_detail_call_marks_its_bucket_and_the_shard_completes(
    local_stack: StackEndpoints,
    pipeline: Settings,
    tag: str,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    assert local_stack.aws_endpoint
    estate, buckets = estate_with_buckets(local_stack.aws_endpoint, tag)
    config = configure(monkeypatch, estate, log_dir.parent)
    denied = f"fs-{tag}-denied-eu"

    first = sweep(config, log_dir)

    assert [(s.resource_type, s.status, s.error_code) for s in first.progress.shards] == [
        ("s3.bucket", ShardStatus.COMPLETE, None)
    ]
    settings = load_settings(config)
    items = inventory_items(settings)
    assert set(items) == set(buckets)
    for name, region in buckets.items():
        if name == denied:
            assert attributes(items[name])[MARK] == {"GetBucketLocation": "AccessDenied"}
            # Unknown, not guessed: no detail, no default region.
            assert "BucketRegion" not in attributes(items[name])
        else:
            assert attributes(items[name])["BucketRegion"] == region
            assert MARK not in attributes(items[name])

    # Every later sweep completes too, keeps the denied bucket (never tombstoned) and keeps
    # the shard's other buckets fresh.
    second = sweep(config, log_dir)
    assert second.ok, second.progress
    again = inventory_items(settings)
    assert not [name for name, item in again.items() if "deleted_at" in item]
    for name in buckets:
        seen = int(again[name]["observed_at_ms"]["N"])
        assert seen > int(items[name]["observed_at_ms"]["N"]), name
    assert attributes(again[denied])[MARK] == {"GetBucketLocation": "AccessDenied"}


def test_a_throttled_detail_call_is_retried_not_degraded(
    local_stack: StackEndpoints,
    pipeline: Settings,
    tag: str,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate, buckets = estate_with_buckets(endpoint, tag)
    account = estate.accounts[0].account_id
    config = configure(
        monkeypatch,
        estate,
        log_dir.parent,
        FLEETSTREAM_DESCRIBER__RETRY_BASE_S="0.2",
        FLEETSTREAM_DESCRIBER__RETRY_MAX_ATTEMPTS="40",
        FLEETSTREAM_AWS__MAX_ATTEMPTS="1",
    )
    throttle = {
        "action": "GetBucketLocation",
        "account": account,
        "rate": 1.0,
        "code": "SlowDown",
        "status": 503,
    }
    set_faults(endpoint, {"errors": [throttle]})
    done = threading.Event()

    def lift_after_two_throttled_pages() -> None:
        # Two throttled attempts with botocore retrying nothing: the describer retried the page.
        while not done.wait(0.2):
            calls = [c for c in aws_calls(endpoint) if c["account"] == account]
            if sum(c.get("injected") == "SlowDown" for c in calls) >= 2:
                break
        set_faults(endpoint, {})

    lifter = threading.Thread(target=lift_after_two_throttled_pages)
    lifter.start()
    try:
        result = sweep(config, log_dir)
    finally:
        done.set()
        lifter.join()
        set_faults(endpoint, {})

    assert result.ok, result.progress
    throttled = [
        c
        for c in aws_calls(endpoint)
        if c["account"] == account and c["action"] == "GetBucketLocation" and c.get("injected")
    ]
    assert len(throttled) >= 2
    items = inventory_items(load_settings(config))
    assert set(items) == set(buckets)
    marked = {name: attributes(i).get(MARK) for name, i in items.items() if MARK in attributes(i)}
    assert marked == {f"fs-{tag}-denied-eu": {"GetBucketLocation": "AccessDenied"}}


def test_refused_detail_calls_are_counted(
    local_stack: StackEndpoints,
    pipeline: Settings,
    tag: str,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    assert local_stack.aws_endpoint
    estate, buckets = estate_with_buckets(local_stack.aws_endpoint, tag)
    config = configure(monkeypatch, estate, log_dir.parent)
    labels = {
        "resource_type": "s3.bucket",
        "operation": "GetBucketLocation",
        "code": "AccessDenied",
    }
    before = REGISTRY.get_sample_value(REFUSED, labels) or 0.0
    settings = load_settings(config)
    describer = Describer(
        AwsClients(settings.aws),
        {BUCKET.type_name: BUCKET},
        page_size=100,
        role_arn_of=settings.aws.member_role_arn,
        redaction_key=redaction_key(settings.describer),
    )
    now = datetime.now(UTC)

    result = describer.handle(
        WorkItem(
            sweep_id=f"s-{tag}",
            account_id=estate.accounts[0].account_id,
            region=GLOBAL_REGION,
            resource_type=BUCKET.type_name,
            shard_started_at=now,
            issued_at=now,
        )
    )

    assert result.outcome is not None
    assert result.outcome.status is ShardStatus.COMPLETE, result.outcome
    assert {o.resource_id for o in result.observations} == set(buckets)
    assert REGISTRY.get_sample_value(REFUSED, labels) == before + 1
