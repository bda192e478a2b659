"""Failing shards and gone accounts do not expire silently (real sink worker, Kafka, DynamoDB).

A shard that keeps failing keeps its items, and an item holding a TTL written by an older
version loses it; with sink.max_stale_s an item not observed nor seen for that long is
DELETED with reason stale. A gone account's items are DELETED with reason account_gone.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from consumers.sink.seen import arn_digest
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings, load_settings
from fleetstream.base.models import ResourceEvent, ShardOutcome, ShardStatus, utc_now
from fleetstream.inventory.dynamodb import Tables
from fleetstream.inventory.read import scan_items
from fleetstream.kafka.clients import ensure_topics
from fleetstream.runtime.workers import WorkerPool
from fleetstream.serde.wire import ChangeType, decode_change_event, encode_resource_event
from tests.integration.helpers import ec2_observation, produce_raw, read_topic, seen_marks
from tests.integration.test_deletion_evidence import sink_loop, wait_until

pytestmark = pytest.mark.integration
WAIT_S = 300.0
GONE_ACCOUNT = "222222222222"
DENIED_ACCOUNT = "333333333333"  # fails as a whole: an account-level FAILED, region "*"
DAY_S = 86_400


def items(settings: Settings) -> dict[str, dict[str, Any]]:
    return {
        i["resource_id"]["S"]: i for i in scan_items(dynamodb_client(settings), settings.sink.table)
    }


def outcomes(settings: Settings) -> int:
    """Outcomes the sink recorded (after applying them) in the sweeps table."""
    return int(
        dynamodb_client(settings).query(
            TableName=settings.sink.sweeps_table,
            KeyConditionExpression="sweep_id = :s",
            ExpressionAttributeValues={":s": {"S": "sweep-unreachable"}},
            ConsistentRead=True,
            Select="COUNT",
        )["Count"]
    )


def deleted_reasons(settings: Settings) -> dict[str, str | None]:
    return {
        event.resource_id: getattr(event, "reason", None)
        for event in (
            decode_change_event(m.value())
            for m in read_topic(settings, settings.kafka.topic("changes"), idle_s=1.0)
        )
        if event.change_type is ChangeType.DELETED
    }


def live_states(settings: Settings) -> set[str]:
    latest: dict[str, bytes | None] = {}
    for message in read_topic(settings, settings.kafka.topic("state"), idle_s=1.0):
        latest[message.key().decode()] = message.value()
    return {arn.rsplit("/", 1)[1] for arn, value in latest.items() if value is not None}


def outcome(
    status: ShardStatus, account: str, at: Any, code: str | None, region: str = "us-east-1"
) -> ShardOutcome:
    return ShardOutcome(
        sweep_id="sweep-unreachable",
        account_id=account,
        region=region,
        resource_type="ec2.instance",
        status=status,
        resource_count=0,
        pages=0,
        shard_started_at=at,
        finished_at=at,
        error_code=code,
    )


def send(settings: Settings, events: list[ResourceEvent], topic: str = "resources") -> None:
    records: list[tuple[bytes | None, bytes]] = [
        (str(e.shard).encode(), encode_resource_event(e)) for e in events
    ]
    produce_raw(settings, settings.kafka.topic(topic), records)


def wait_for(what: str, condition: Any, pool: WorkerPool) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        pool.check()
        if condition():
            return
        time.sleep(1.0)
    pytest.fail(f"timed out waiting for {what}\n" + "\n".join(w.tail(8) for w in pool.workers))


def test_failing_and_gone_shards_are_never_expired_silently(
    pipeline: Settings, log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stale after 1.5 days without an observation (above the 1-day rewrite of unchanged items).
    monkeypatch.setenv("FLEETSTREAM_SINK__MAX_STALE_S", str(DAY_S * 3 // 2))
    # No grace: the gone account's item, observed a minute ago, is deleted at once.
    monkeypatch.setenv("FLEETSTREAM_SINK__GONE_ACCOUNT_GRACE_S", "0")
    settings = load_settings(None)
    ensure_topics(settings.kafka)
    ddb = dynamodb_client(settings)
    Tables(ddb, settings.sink.table, settings.sink.sweeps_table).ensure()
    now = utc_now().replace(microsecond=0)
    recent = now - timedelta(minutes=1)
    old = ec2_observation("i-old", now - timedelta(days=2))
    fresh = ec2_observation("i-fresh", recent)
    legacy = ec2_observation("i-legacy", recent)
    gone = replace(
        ec2_observation("i-gone", recent),
        arn=f"arn:aws:ec2:us-east-1:{GONE_ACCOUNT}:instance/i-gone",
        account_id=GONE_ACCOUNT,
    )
    denied = replace(
        ec2_observation("i-denied", recent),
        arn=f"arn:aws:ec2:us-east-1:{DENIED_ACCOUNT}:instance/i-denied",
        account_id=DENIED_ACCOUNT,
    )
    pool = WorkerPool(None, log_dir, max_restarts=0)
    try:
        pool.start("sink", 1)
        send(settings, [old, fresh, legacy, gone, denied])
        wait_for("the sink's writes", lambda: len(items(settings)) == 5, pool)
        # A TTL on a live item, as a version before this one wrote it.
        for arn in (legacy.arn, denied.arn):
            ddb.update_item(
                TableName=settings.sink.table,
                Key={"arn": {"S": arn}},
                UpdateExpression="SET expires_at = :e",
                ExpressionAttributeValues={":e": {"N": str(int(time.time()) + DAY_S)}},
            )
        # The shard fails again; the account is reported closed.
        send(settings, [outcome(ShardStatus.FAILED, old.account_id, now, "AccessDenied")])
        send(settings, [outcome(ShardStatus.FAILED, DENIED_ACCOUNT, now, "AccessDenied", "*")])
        gone_outcome = outcome(ShardStatus.ACCOUNT_GONE, GONE_ACCOUNT, now, "AccountClosed")
        send(settings, [gone_outcome], "plan-outcomes")  # the planner's topic
        wait_for("the three outcomes recorded", lambda: outcomes(settings) == 3, pool)
    finally:
        pool.stop()

    stored = items(settings)
    outcome_seen = (
        deleted_reasons(settings),
        live_states(settings),
        sorted(k for k, i in stored.items() if "deleted_at_ms" not in i),
        [k for k in ("i-legacy", "i-denied") if "expires_at" in stored[k]],
    )
    assert outcome_seen == (
        {"i-old": "stale", "i-gone": "account_gone"},
        {"i-denied", "i-fresh", "i-legacy"},
        ["i-denied", "i-fresh", "i-legacy"],
        [],
    )


def test_an_account_gone_outcome_spares_what_was_seen_lately(
    pipeline: Settings, log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With sink.skip_unchanged an unchanged item is not rewritten: its observed_at can be older
    than the gone-account grace while a seen mark says it was seen a minute ago. Found in
    review: the ACCOUNT_GONE outcome judged by observed_at alone and deleted it."""
    monkeypatch.setenv("FLEETSTREAM_SINK__SKIP_UNCHANGED", "true")
    monkeypatch.setenv("FLEETSTREAM_SINK__REWRITE_UNCHANGED_AFTER_S", str(30 * DAY_S))
    settings = load_settings(None)
    ensure_topics(settings.kafka)
    ddb = dynamodb_client(settings)
    Tables(
        ddb, settings.sink.table, settings.sink.sweeps_table, settings.sink.seen_table_name
    ).ensure()
    now = utc_now().replace(microsecond=0)
    first = replace(
        ec2_observation("i-unchanged", now - timedelta(days=10)),
        arn=f"arn:aws:ec2:us-east-1:{GONE_ACCOUNT}:instance/i-unchanged",
        account_id=GONE_ACCOUNT,
    )
    again = replace(first, observed_at=now - timedelta(minutes=1))  # the same resource, unchanged
    marks = seen_marks(settings)
    since_ms = int((now - timedelta(hours=1)).timestamp() * 1000)
    pool = WorkerPool(None, log_dir, max_restarts=0)
    try:
        pool.start("sink", 1)
        send(settings, [first])
        wait_for("the first write", lambda: "i-unchanged" in items(settings), pool)
        send(settings, [again])
        wait_for(
            "the seen mark of the unchanged observation",
            lambda: marks.last_seen(str(again.shard), [arn_digest(again.arn)], since_ms),
            pool,
        )
        assert items(settings)["i-unchanged"]["observed_at_ms"]["N"] == str(
            int(first.observed_at.timestamp() * 1000)
        ), "the unchanged observation was rewritten: this test needs skip_unchanged"
        gone = outcome(ShardStatus.ACCOUNT_GONE, GONE_ACCOUNT, now, "AccountClosed", "*")
        send(settings, [gone], "plan-outcomes")
        wait_for("the outcome recorded", lambda: outcomes(settings) == 1, pool)
    finally:
        pool.stop()
    item = items(settings)["i-unchanged"]
    assert "deleted_at_ms" not in item, "a resource seen a minute ago was deleted as gone"
    assert item["account_status"]["S"]  # marked as the gone account's, not deleted


def test_an_account_gone_outcome_on_resources_is_refused(
    pipeline: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the planner reads AWS Organizations: an ACCOUNT_GONE outcome on `resources` (a
    describer's topic) is dead-lettered and counted, and marks and deletes nothing. Before,
    the sink applied it like the planner's."""
    # No grace: applied, the outcome would delete the item observed a minute before it.
    monkeypatch.setenv("FLEETSTREAM_SINK__GONE_ACCOUNT_GRACE_S", "0")
    settings = load_settings(None)
    ensure_topics(settings.kafka)
    now = utc_now().replace(microsecond=0)
    observed = replace(
        ec2_observation("i-gone", now - timedelta(minutes=1)),
        arn=f"arn:aws:ec2:us-east-1:{GONE_ACCOUNT}:instance/i-gone",
        account_id=GONE_ACCOUNT,
    )
    gone = outcome(ShardStatus.ACCOUNT_GONE, GONE_ACCOUNT, now, "AccountClosed", "*")
    refused = (
        REGISTRY.get_sample_value(
            "fleetstream_sink_resources_refused_total", {"kind": "account_gone"}
        )
        or 0.0
    )
    with sink_loop(settings) as sink:
        send(settings, [observed])
        wait_until(lambda: len(items(settings)) == 1, "observation written")
        send(settings, [gone])  # on resources
        forged = encode_resource_event(gone)
        wait_until(
            lambda: (
                not sink.is_alive()
                or any(
                    m.value() == forged
                    for m in read_topic(settings, settings.kafka.topic("dlq"), idle_s=1.0)
                )
            ),
            "the outcome dead-lettered",
        )
        assert sink.is_alive()
    after = REGISTRY.get_sample_value(
        "fleetstream_sink_resources_refused_total", {"kind": "account_gone"}
    )
    assert after == refused + 1
    [item] = items(settings).values()
    assert "deleted_at_ms" not in item and "account_status" not in item
    assert outcomes(settings) == 0
