"""Overlapping sweeps of one shard, with a targeted refresh in between, on DynamoDB Local:
deletion stays correct whichever sweep completes first (the continuous planner's guarantee
when a restarted planner issues a shard that is still in flight)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from consumers.sink.accounts import GoneAccounts
from consumers.sink.changes import SinkOutput
from consumers.sink.deletions import Tombstoner
from consumers.sink.handler import Sink
from consumers.sink.store import InventoryStore
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.models import Observation, ResourceEvent, ShardOutcome, ShardStatus, utc_now
from fleetstream.inventory.dynamodb import Tables
from fleetstream.inventory.read import scan_items
from fleetstream.inventory.sweeps import SweepStore
from tests.integration.helpers import seen_marks

pytestmark = pytest.mark.integration
# Recent: deletion uses seen marks only while they are younger than sink.seen_retention_s.
T0 = (utc_now() - timedelta(days=1)).replace(second=0, microsecond=0)
ACCOUNT = "111111111111"


def seen(resource_id: str, at: datetime, sweep_id: str) -> Observation:
    return Observation(
        arn=f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{resource_id}",
        account_id=ACCOUNT,
        region="us-east-1",
        resource_type="ec2.instance",
        resource_id=resource_id,
        attributes_json=f'{{"InstanceId":"{resource_id}"}}',
        observed_at=at,
        sweep_id=sweep_id,
    )


def complete(sweep_id: str, started: datetime, finished: datetime, count: int) -> ShardOutcome:
    return ShardOutcome(
        sweep_id=sweep_id,
        account_id=ACCOUNT,
        region="us-east-1",
        resource_type="ec2.instance",
        status=ShardStatus.COMPLETE,
        resource_count=count,
        pages=1,
        shard_started_at=started,
        finished_at=finished,
        described_from=started,
    )


def changes(outputs: list[SinkOutput]) -> list[tuple[str, str]]:
    return [
        (o.change.resource_id, o.change.change_type.value) for o in outputs if o.change is not None
    ]


def test_the_older_sweep_completing_last_deletes_nothing_it_should_not(pipeline: Settings) -> None:
    client = dynamodb_client(pipeline)
    table = pipeline.sink.table
    Tables(client, table, pipeline.sink.sweeps_table).ensure()
    ttl = timedelta(days=1)
    marks = seen_marks(pipeline)
    sink = Sink(
        InventoryStore(client, table, marks),
        SweepStore(client, pipeline.sink.sweeps_table, ttl),
        Tombstoner(client, table, ttl, marks, margin_ms=2000),
        GoneAccounts(client, table),
    )

    def write(*events: ResourceEvent) -> list[tuple[str, str]]:
        return changes(sink.write(list(events)))

    # Sweep A starts and sees i-1 and i-2.
    a_start = T0
    assert write(seen("i-1", T0 + timedelta(seconds=1), "A"), seen("i-2", T0, "A")) == [
        ("i-1", "CREATED"),
        ("i-2", "CREATED"),
    ]
    # i-2 is terminated; sweep B of the same shard starts while A is still in flight and sees
    # only i-1; an event-driven refresh sees the new i-3 meanwhile.
    b_start = T0 + timedelta(minutes=5)
    write(seen("i-1", b_start + timedelta(seconds=1), "B"))
    assert write(seen("i-3", b_start + timedelta(seconds=2), "refresh-1")) == [("i-3", "CREATED")]
    # B completes first: i-2, unseen since B started, is deleted; i-3 is not.
    b_done = complete("B", b_start, b_start + timedelta(seconds=10), 1)
    assert write(b_done) == [("i-2", "DELETED")]
    # A's retried page arrives late with its old observation of i-2: no resurrection.
    assert write(seen("i-2", T0 + timedelta(seconds=2), "A")) == []
    # A completes last: it started before everything the table holds was seen: no deletion.
    assert write(complete("A", a_start, b_start + timedelta(minutes=1), 2)) == []
    # A refresh never completes a shard, so nothing else could have deleted i-3.
    live = {
        item["resource_id"]["S"]
        for item in scan_items(client, table)
        if "deleted_at_ms" not in item
    }
    assert live == {"i-1", "i-3"}


def test_a_page_described_by_a_describer_whose_clock_is_behind_is_still_seen(
    pipeline: Settings,
) -> None:
    client = dynamodb_client(pipeline)
    table = pipeline.sink.table
    Tables(client, table, pipeline.sink.sweeps_table).ensure()
    ttl = timedelta(days=1)
    marks = seen_marks(pipeline)
    sink = Sink(
        InventoryStore(client, table, marks),
        SweepStore(client, pipeline.sink.sweeps_table, ttl),
        Tombstoner(client, table, ttl, marks, margin_ms=2000),
        GoneAccounts(client, table),
    )

    def write(*events: ResourceEvent) -> list[tuple[str, str]]:
        return changes(sink.write(list(events)))

    before = T0 - timedelta(hours=1)
    write(seen("i-1", before, "P"), seen("i-2", before, "P"))
    # Sweep S: the first page on a true clock at T0; after a rebalance the second page is
    # described by a describer whose clock is 5 minutes behind.
    write(seen("i-1", T0 + timedelta(seconds=1), "S"))
    write(seen("i-2", T0 - timedelta(minutes=5), "S"))
    assert write(complete("S", T0, T0 + timedelta(seconds=10), 2)) == []
    # The next sweep does not see i-2: it is deleted.
    later = T0 + timedelta(minutes=10)
    write(seen("i-1", later + timedelta(seconds=1), "S2"))
    assert write(complete("S2", later, later + timedelta(seconds=10), 1)) == [("i-2", "DELETED")]
