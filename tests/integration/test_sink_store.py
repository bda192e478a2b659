"""The inventory table on DynamoDB Local: idempotent, ordered by observation time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from consumers.sink.accounts import GoneAccounts
from consumers.sink.store import InventoryStore
from consumers.sink.unreachable import Unreachable
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.models import Observation, ShardKey, ShardOutcome, ShardStatus, utc_now
from fleetstream.inventory.dynamodb import Tables
from fleetstream.inventory.read import count_shard, scan_items
from tests.integration.helpers import seen_marks

pytestmark = pytest.mark.integration
# Recent: an unchanged observation older than sink.rewrite_unchanged_after_s is rewritten.
T0 = (utc_now() - timedelta(hours=1)).replace(microsecond=0)


def observation(resource_id: str, at: datetime, team: str) -> Observation:
    return Observation(
        arn=f"arn:aws:ec2:us-east-1:111111111111:instance/{resource_id}",
        account_id="111111111111",
        region="us-east-1",
        resource_type="ec2.instance",
        resource_id=resource_id,
        attributes_json=f'{{"InstanceId":"{resource_id}","Team":"{team}"}}',
        observed_at=at,
        sweep_id=f"sweep-{at:%H%M%S}",
        tags={"Team": team},
    )


def teams(client: Any, table: str) -> dict[str, str]:
    return {i["resource_id"]["S"]: i["tags"]["M"]["Team"]["S"] for i in scan_items(client, table)}


def test_older_observations_never_overwrite_newer_ones(pipeline: Settings) -> None:
    client = dynamodb_client(pipeline)
    Tables(client, pipeline.sink.table, pipeline.sink.sweeps_table).ensure()
    # skip_unchanged on: the replay below measures that an unchanged one is not rewritten.
    store = InventoryStore(client, pipeline.sink.table, seen_marks(pipeline), skip_unchanged=True)
    newer = T0 + timedelta(minutes=5)

    assert store.write([observation("i-1", newer, "new"), observation("i-2", T0, "old")]) == 2
    # A late, older observation of i-1 (and a newer one of i-2) arrive in a later batch.
    assert store.write([observation("i-1", T0, "old"), observation("i-2", newer, "new")]) == 1
    assert teams(client, pipeline.sink.table) == {"i-1": "new", "i-2": "new"}

    # Within one batch the newest observation per ARN wins, whatever the order.
    store.write([observation("i-3", newer, "new"), observation("i-3", T0, "old")])
    assert teams(client, pipeline.sink.table)["i-3"] == "new"

    # Replaying the same observation is harmless: unchanged, it is not even written again.
    assert store.write([observation("i-1", newer, "new")]) == 0
    assert teams(client, pipeline.sink.table) == {"i-1": "new", "i-2": "new", "i-3": "new"}


def test_unchanged_items_are_rewritten_only_when_old_or_carrying_a_legacy_ttl(
    pipeline: Settings,
) -> None:
    client = dynamodb_client(pipeline)
    table = pipeline.sink.table
    Tables(client, table, pipeline.sink.sweeps_table).ensure()
    store = InventoryStore(
        client,
        table,
        seen_marks(pipeline),
        skip_unchanged=True,
        rewrite_unchanged_after_s=3600,
        clock=(T0 + timedelta(minutes=15)).timestamp,
    )
    assert store.write([observation("i-1", T0, "a"), observation("i-2", T0, "a")]) == 2
    # An item written by an older version: a TTL on a live item.
    client.update_item(
        TableName=table,
        Key={"arn": {"S": observation("i-2", T0, "a").arn}},
        UpdateExpression="SET expires_at = :e",
        ExpressionAttributeValues={":e": {"N": "1"}},
    )
    later = T0 + timedelta(minutes=10)
    # i-1 is unchanged and young: not written. i-2 is rewritten once, without its TTL.
    assert store.write([observation("i-1", later, "a"), observation("i-2", later, "a")]) == 1
    items = {i["resource_id"]["S"]: i for i in scan_items(client, table)}
    assert "expires_at" not in items["i-2"]
    assert items["i-2"]["observed_at_ms"]["N"] == str(int(later.timestamp() * 1000))
    assert items["i-1"]["observed_at_ms"]["N"] == str(int(T0.timestamp() * 1000))
    assert store.write([observation("i-2", later + timedelta(minutes=1), "a")]) == 0
    # Three hours on (past the whole spread of a 1 h rewrite age), both are written again.
    at = T0 + timedelta(hours=3)
    aged = InventoryStore(
        client,
        table,
        seen_marks(pipeline),
        skip_unchanged=True,
        rewrite_unchanged_after_s=3600,
        clock=at.timestamp,
    )
    assert aged.write([observation("i-1", at, "a"), observation("i-2", at, "a")]) == 2


def test_by_default_unchanged_items_are_rewritten_without_a_change(pipeline: Settings) -> None:
    """sink.skip_unchanged is off by default (a rollback to an older sink stays safe): an
    unchanged observation refreshes observed_at and emits no change event."""
    client = dynamodb_client(pipeline)
    table = pipeline.sink.table
    Tables(client, table, pipeline.sink.sweeps_table).ensure()
    assert pipeline.sink.skip_unchanged is False
    store = InventoryStore(
        client, table, seen_marks(pipeline), skip_unchanged=pipeline.sink.skip_unchanged
    )
    first = store.apply([observation("i-1", T0, "a"), observation("i-2", T0, "a")])
    assert first.written == 2 and len([o for o in first.outputs if o.change]) == 2
    later = T0 + timedelta(minutes=1)
    again = store.apply([observation("i-1", later, "a"), observation("i-2", later, "a")])
    assert again.written == 2
    assert [o.change for o in again.outputs if o.change is not None] == []
    observed = {i["resource_id"]["S"]: i["observed_at_ms"]["N"] for i in scan_items(client, table)}
    stamp = str(int(later.timestamp() * 1000))
    assert observed == {"i-1": stamp, "i-2": stamp}


def test_batches_beyond_dynamodb_limits_are_chunked(pipeline: Settings) -> None:
    client = dynamodb_client(pipeline)
    Tables(client, pipeline.sink.table, pipeline.sink.sweeps_table).ensure()
    store = InventoryStore(client, pipeline.sink.table, seen_marks(pipeline))
    # 260 items: more than one BatchGetItem (100) and many BatchWriteItem (25) requests.
    written = store.write([observation(f"i-{n:04d}", T0, "t") for n in range(260)])
    assert written == 260
    shard = ShardKey("111111111111", "us-east-1", "ec2.instance")
    assert count_shard(client, pipeline.sink.table, shard) == 260


def test_an_item_deleted_while_its_account_is_marked_gone_is_skipped(pipeline: Settings) -> None:
    """The by_account index named an item that is gone by the time it is marked: the
    conditional update fails, and the sink goes on instead of crashing (issue 13 hole 6)."""
    client = dynamodb_client(pipeline)
    table = pipeline.sink.table
    Tables(client, table, pipeline.sink.sweeps_table).ensure()
    InventoryStore(client, table, seen_marks(pipeline)).write(
        [observation("i-1", T0, "a"), observation("i-2", T0, "a")]
    )
    other = dynamodb_client(pipeline)
    vanished: list[str] = []

    def delete_it_first(params: dict[str, Any], **_: Any) -> None:
        # The real race, made certain: another writer removes the first item just before
        # its UpdateItem reaches DynamoDB Local.
        if not vanished:
            vanished.append(params["Key"]["arn"]["S"])
            other.delete_item(TableName=table, Key=params["Key"])

    client.meta.events.register("provide-client-params.dynamodb.UpdateItem", delete_it_first)
    gone = ShardOutcome(
        sweep_id="s",
        account_id="111111111111",
        region="*",
        resource_type="ec2.instance",
        status=ShardStatus.ACCOUNT_GONE,
        resource_count=0,
        pages=0,
        shard_started_at=T0,
        finished_at=T0,
        error_code="AccountSuspended",
    )
    assert GoneAccounts(client, table).mark(gone) == 1
    items = {i["arn"]["S"]: i for i in scan_items(client, table)}
    assert vanished and vanished[0] not in items  # never recreated from its index entry
    [left] = items.values()
    assert left["account_status"] == {"S": "SUSPENDED"}


def test_a_failed_shard_found_clean_is_not_read_again_soon(pipeline: Settings) -> None:
    """With sink.max_stale_s 0 a FAILED outcome only strips TTLs an older version wrote on
    live items: the first outcome of a shard reads its items and strips them, the next one
    reads them again (an older sink may still write such a TTL) and finds none, a later one
    of the same shard reads nothing (for an hour), another shard's reads."""
    client = dynamodb_client(pipeline)
    Tables(client, pipeline.sink.table, pipeline.sink.sweeps_table).ensure()
    InventoryStore(client, pipeline.sink.table, seen_marks(pipeline)).write(
        [observation("i-1", T0, "a")]
    )
    arn = observation("i-1", T0, "a").arn
    client.update_item(
        TableName=pipeline.sink.table,
        Key={"arn": {"S": arn}},
        UpdateExpression="SET expires_at = :e",
        ExpressionAttributeValues={":e": {"N": str(int(T0.timestamp()) + 3600)}},
    )
    queries: list[str] = []
    client.meta.events.register(
        "provide-client-params.dynamodb.Query",
        lambda params, **_: queries.append(params["IndexName"]),
    )
    unreachable = Unreachable(
        client,
        pipeline.sink.table,
        seen_marks(pipeline),
        max_stale_s=0,
        rewrite_unchanged_after_s=86_400,
        ttl=timedelta(days=1),
    )

    def failed(sweep_id: str, region: str = "us-east-1") -> ShardOutcome:
        return ShardOutcome(
            sweep_id=sweep_id,
            account_id="111111111111",
            region=region,
            resource_type="ec2.instance",
            status=ShardStatus.FAILED,
            resource_count=0,
            pages=0,
            shard_started_at=T0,
            finished_at=T0,
        )

    assert unreachable.apply(failed("s1")) == []
    [item] = scan_items(client, pipeline.sink.table)
    assert "expires_at" not in item and item["observed_at_ms"]
    assert queries == ["by_shard"]
    assert unreachable.apply(failed("s2")) == []
    assert queries == ["by_shard"] * 2  # a TTL was found: read again, none found
    assert unreachable.apply(failed("s3")) == []
    assert queries == ["by_shard"] * 2  # the same shard, found clean: nothing read
    unreachable.apply(failed("s4", "eu-west-1"))
    assert queries == ["by_shard"] * 3
