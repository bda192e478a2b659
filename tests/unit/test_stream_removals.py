"""The expiry worker's pure parts: which stream records are removals, and shard lineage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from consumers.sink.changes import deleted_output
from consumers.sink.expiry.checkpoints import Position
from consumers.sink.expiry.reader import readable
from consumers.sink.expiry.removals import deletion_of

pytestmark = pytest.mark.unit
AT = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)
ARN = "arn:aws:ec2:us-east-1:111111111111:instance/i-1"
LIVE = {
    "arn": {"S": ARN},
    "account_id": {"S": "111111111111"},
    "region": {"S": "us-east-1"},
    "resource_type": {"S": "ec2.instance"},
    "resource_id": {"S": "i-1"},
    "sweep_id": {"S": "s1"},
    "fingerprint": {"S": "f1"},
    "observed_at_ms": {"N": "1000"},
}
TTL_IDENTITY = {"principalId": "dynamodb.amazonaws.com", "type": "Service"}


def record(
    name: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None = None,
    identity: dict[str, str] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"ApproximateCreationDateTime": AT, "SequenceNumber": "1"}
    if old is not None:
        data["OldImage"] = old
    if new is not None:
        data["NewImage"] = new
    found: dict[str, Any] = {"eventName": name, "dynamodb": data}
    if identity is not None:
        found["userIdentity"] = identity
    return found


def test_a_ttl_removal_in_aws_is_expired_and_a_delete_item_is_removed() -> None:
    expired = deletion_of(record("REMOVE", LIVE, identity=TTL_IDENTITY))
    removed = deletion_of(record("REMOVE", LIVE))
    assert expired is not None and expired.reason == "expired"
    assert removed is not None and removed.reason == "removed"
    assert (expired.arn, expired.old_fingerprint, expired.previous_observed_ms) == (ARN, "f1", 1000)
    assert expired.deleted_at == AT


def test_dynamodb_locals_ttl_removal_is_expired() -> None:
    # DynamoDB Local 3.1: no userIdentity, an event name its SDK does not know.
    found = deletion_of(record("UNKNOWN_TO_SDK_VERSION", LIVE))
    assert found is not None and found.reason == "expired"


def test_inserts_modifies_and_fleetstreams_own_tombstones_are_not_announced() -> None:
    tombstone = LIVE | {"deleted_at_ms": {"N": "2000"}}
    assert deletion_of(record("INSERT", None, LIVE)) is None
    assert deletion_of(record("MODIFY", LIVE, tombstone)) is None
    assert deletion_of(record("REMOVE", tombstone, identity=TTL_IDENTITY)) is None


def test_the_same_record_read_twice_gives_the_same_change() -> None:
    first = deletion_of(record("REMOVE", LIVE, identity=TTL_IDENTITY))
    again = deletion_of(record("REMOVE", LIVE, identity=TTL_IDENTITY))
    assert first is not None and again is not None
    one, two = deleted_output(first), deleted_output(again)
    assert one == two and one.deleted and one.change is not None
    assert one.change.reason == "expired"


def test_a_child_shard_waits_for_its_parent_to_be_read_to_its_end() -> None:
    shards = [
        {"ShardId": "parent"},
        {"ShardId": "child-a", "ParentShardId": "parent"},
        {"ShardId": "child-b", "ParentShardId": "parent"},
        {"ShardId": "orphan", "ParentShardId": "trimmed-long-ago"},
    ]
    assert readable(shards, {}) == ["parent", "orphan"]
    reading = {"parent": Position("parent", "7", closed=False)}
    assert readable(shards, reading) == ["parent", "orphan"]
    done = {"parent": Position("parent", "9", closed=True)}
    assert readable(shards, done) == ["child-a", "child-b", "orphan"]
