"""Every removal of an inventory item reaches the change stream and the state topic.

Real stack: a sink worker writes the items, DynamoDB Local's own TTL sweeper expires one (a
fresh one deletes expired items within seconds and writes the removal to the table's stream;
a long-running shared one was seen not to within minutes, and a DeleteItem then stands for
it: the run's measurement line says which happened), a
DeleteItem removes another (anything else deleting an item), and the `expiry` worker reads the
table's DynamoDB Stream. Both removals must become DELETED changes with their reason and state
tombstones, so restore-from-state does not bring them back.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from consumers.sink.restore import restore_from_state
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.models import utc_now
from fleetstream.inventory.dynamodb import Tables
from fleetstream.inventory.read import scan_items
from fleetstream.kafka.clients import ensure_topics
from fleetstream.runtime.workers import WorkerPool
from fleetstream.serde.wire import ChangeType, decode_change_event, encode_resource_event
from tests.integration.helpers import ec2_observation, produce_raw, read_topic

pytestmark = pytest.mark.integration
WAIT_S = 300.0  # generous: two cores shared with other test runs
SWEEPER_S = 120.0  # a fresh DynamoDB Local removed expired items within 25 s here


def wait_for(what: str, condition: Callable[[], Any], pool: WorkerPool) -> Any:
    """Poll until condition() is truthy; fail with the workers' last lines otherwise."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        pool.check()
        found = condition()
        if found:
            return found
        time.sleep(1.0)
    tails = "\n".join(f"{w.role}: {w.tail(8)}" for w in pool.workers)
    pytest.fail(f"timed out waiting for {what}\n{tails}")


def live_arns(settings: Settings, table: str) -> set[str]:
    return {
        item["arn"]["S"]
        for item in scan_items(dynamodb_client(settings), table)
        if "deleted_at_ms" not in item
    }


def deleted_reasons(settings: Settings) -> dict[str, str | None]:
    return {
        event.arn: getattr(event, "reason", None)
        for event in (
            decode_change_event(m.value())
            for m in read_topic(settings, settings.kafka.topic("changes"), idle_s=1.0)
        )
        if event.change_type is ChangeType.DELETED
    }


def state_arns(settings: Settings) -> set[str]:
    latest: dict[str, bytes | None] = {}
    for message in read_topic(settings, settings.kafka.topic("state"), idle_s=1.0):
        latest[message.key().decode()] = message.value()
    return {arn for arn, value in latest.items() if value is not None}


def sweeper_removes(settings: Settings, arn: str, pool: WorkerPool) -> bool:
    """Whether DynamoDB Local's own TTL sweeper removes the expired item within SWEEPER_S."""
    deadline = time.monotonic() + SWEEPER_S
    while time.monotonic() < deadline:
        pool.check()
        if arn not in live_arns(settings, settings.sink.table):
            return True
        time.sleep(1.0)
    return False


def test_expired_and_removed_items_become_deleted_changes_and_state_tombstones(
    pipeline: Settings, log_dir: Path, measurements: list[str]
) -> None:
    settings = pipeline
    ensure_topics(settings.kafka)
    at = utc_now().replace(microsecond=0)
    kept, expired, removed = (ec2_observation(f"i-{n}", at) for n in ("kept", "ttl", "gone"))
    ddb = dynamodb_client(settings)
    Tables(ddb, settings.sink.table, settings.sink.sweeps_table).ensure()
    pool = WorkerPool(None, log_dir, max_restarts=0)
    try:
        pool.start("sink", 1)
        pool.start("expiry", 1)
        produce_raw(
            settings,
            settings.kafka.topic("resources"),
            [(str(o.shard).encode(), encode_resource_event(o)) for o in (kept, expired, removed)],
        )
        everything = {kept.arn, expired.arn, removed.arn}
        wait_for(
            "the sink's writes",
            lambda: live_arns(settings, settings.sink.table) == everything,
            pool,
        )
        wait_for("the CREATED states", lambda: state_arns(settings) == everything, pool)

        # An item with a TTL, as a version before this one wrote on live items: DynamoDB
        # Local's TTL sweeper deletes it for real. The other is deleted by someone else.
        ddb.update_item(
            TableName=settings.sink.table,
            Key={"arn": {"S": expired.arn}},
            UpdateExpression="SET expires_at = :e",
            ExpressionAttributeValues={":e": {"N": str(int(time.time()) + 1)}},
        )
        ddb.delete_item(TableName=settings.sink.table, Key={"arn": {"S": removed.arn}})
        expired_by = "expired"
        if not sweeper_removes(settings, expired.arn, pool):
            # Seen on a long-running, shared DynamoDB Local: its sweeper did not come within
            # minutes. A DeleteItem then stands for it (a real REMOVE on the real stream).
            expired_by = "removed"
            ddb.delete_item(TableName=settings.sink.table, Key={"arn": {"S": expired.arn}})
        measurements.append(f"removals stream: the TTL item was removed by {expired_by!r}")
        wait_for(
            "both items gone",
            lambda: live_arns(settings, settings.sink.table) == {kept.arn},
            pool,
        )
        deadline = time.monotonic() + 90  # the reader's poll; on today's code it never comes
        while time.monotonic() < deadline and len(deleted_reasons(settings)) < 2:
            pool.check()
            time.sleep(2.0)
    finally:
        pool.stop()

    restored_table = f"{settings.sink.table}-restored"
    restore_from_state(settings, restored_table)
    outcome = (
        deleted_reasons(settings),
        state_arns(settings),
        live_arns(settings, restored_table),
    )
    assert outcome == (
        {expired.arn: expired_by, removed.arn: "removed"},
        {kept.arn},
        {kept.arn},
    )


def deleted_ids(settings: Settings) -> dict[str, list[str]]:
    """ARN -> the change_ids of its DELETED changes, in order."""
    found: dict[str, list[str]] = {}
    for message in read_topic(settings, settings.kafka.topic("changes"), idle_s=1.0):
        event = decode_change_event(message.value())
        if event.change_type is ChangeType.DELETED:
            found.setdefault(event.arn, []).append(event.change_id)
    return found


def test_a_killed_expiry_worker_resumes_at_its_checkpoint_without_loss(
    pipeline: Settings, log_dir: Path
) -> None:
    settings = pipeline
    ensure_topics(settings.kafka)
    ddb = dynamodb_client(settings)
    Tables(ddb, settings.sink.table, settings.sink.sweeps_table).ensure()
    at = utc_now().replace(microsecond=0)
    first, second = (ec2_observation(f"i-{n}", at) for n in ("first", "second"))
    pool = WorkerPool(None, log_dir, max_restarts=0)
    try:
        pool.start("sink", 1)
        pool.start("expiry", 1)
        produce_raw(
            settings,
            settings.kafka.topic("resources"),
            [(str(o.shard).encode(), encode_resource_event(o)) for o in (first, second)],
        )
        both = {first.arn, second.arn}
        wait_for(
            "the sink's writes", lambda: live_arns(settings, settings.sink.table) == both, pool
        )
        ddb.delete_item(TableName=settings.sink.table, Key={"arn": {"S": first.arn}})
        wait_for("the first DELETED", lambda: first.arn in deleted_ids(settings), pool)
        expiry = next(w for w in pool.workers if w.role == "expiry")
        with urllib.request.urlopen(expiry.metrics_url, timeout=10) as response:
            metrics = response.read().decode()
        expiry.process.kill()  # SIGKILL: no shutdown, only what was checkpointed survives
        expiry.process.wait()
        # Removed while no reader runs: the stream keeps it until the reader comes back.
        ddb.delete_item(TableName=settings.sink.table, Key={"arn": {"S": second.arn}})
        pool.restart(expiry)
        wait_for("the second DELETED", lambda: second.arn in deleted_ids(settings), pool)
    finally:
        pool.stop()
    assert 'fleetstream_expiry_removals_total{reason="removed"} 1.0' in metrics
    assert "fleetstream_expiry_iterator_age_seconds" in metrics
    ids = deleted_ids(settings)
    assert set(ids) == both
    # A repeat after the crash is allowed only as the identical change (same change_id).
    assert {arn: len(set(changes)) for arn, changes in ids.items()} == {first.arn: 1, second.arn: 1}


def test_a_replaced_stream_is_read_to_its_end_then_the_new_one(
    pipeline: Settings, log_dir: Path
) -> None:
    """Disabling and enabling the table's stream gives it a new stream ARN: the reader
    finishes the old stream, then follows the new one; no removal is left unannounced."""
    settings = pipeline
    ensure_topics(settings.kafka)
    ddb = dynamodb_client(settings)
    Tables(ddb, settings.sink.table, settings.sink.sweeps_table).ensure()
    at = utc_now().replace(microsecond=0)
    before, after = (ec2_observation(f"i-{n}", at) for n in ("before", "after"))
    pool = WorkerPool(None, log_dir, max_restarts=0)
    try:
        pool.start("sink", 1)
        pool.start("expiry", 1)
        produce_raw(
            settings,
            settings.kafka.topic("resources"),
            [(str(o.shard).encode(), encode_resource_event(o)) for o in (before, after)],
        )
        both = {before.arn, after.arn}
        wait_for(
            "the sink's writes", lambda: live_arns(settings, settings.sink.table) == both, pool
        )
        old_stream = ddb.describe_table(TableName=settings.sink.table)["Table"]["LatestStreamArn"]
        ddb.delete_item(TableName=settings.sink.table, Key={"arn": {"S": before.arn}})
        ddb.update_table(
            TableName=settings.sink.table, StreamSpecification={"StreamEnabled": False}
        )
        ddb.update_table(
            TableName=settings.sink.table,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        new_stream = ddb.describe_table(TableName=settings.sink.table)["Table"]["LatestStreamArn"]
        assert new_stream != old_stream
        ddb.delete_item(TableName=settings.sink.table, Key={"arn": {"S": after.arn}})
        wait_for("both DELETED", lambda: set(deleted_ids(settings)) == both, pool)
    finally:
        pool.stop()
