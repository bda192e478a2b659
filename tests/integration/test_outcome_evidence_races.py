"""Outcome passes against writes made meanwhile, on DynamoDB Local (the sink classes driven
in-process): a seen mark written by another sink while a pass is under way keeps its item, a
redelivered outcome announces every tombstone it wrote, and a legacy TTL written by an older
sink after a shard was cleared is found again."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest

from consumers.sink.changes import Deletion
from consumers.sink.deletions import Tombstoner
from consumers.sink.store import InventoryStore
from consumers.sink.unreachable import Unreachable
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.models import Observation, ShardOutcome, ShardStatus, utc_now
from fleetstream.inventory.dynamodb import Tables
from fleetstream.inventory.read import scan_items
from tests.integration.helpers import ec2_observation, seen_marks
from tests.integration.test_outcome_chunks import shard_outcome

pytestmark = pytest.mark.integration
DAY_S = 86_400
ITEMS = 6
CHUNK = 2


def tables(settings: Settings) -> Any:
    client = dynamodb_client(settings)
    Tables(
        client, settings.sink.table, settings.sink.sweeps_table, settings.sink.seen_table_name
    ).ensure()
    return client


def observed(settings: Settings, at: datetime) -> list[Observation]:
    """ITEMS live items of one shard, observed at `at` (items and their seen marks)."""
    observations = [ec2_observation(f"i-{n}", at) for n in range(ITEMS)]
    InventoryStore(
        dynamodb_client(settings), settings.sink.table, seen_marks(settings), skip_unchanged=True
    ).write(observations)
    return observations


class ConcurrentSink:
    """Another sink's seen marks, written while a pass is under way: once the pass's first
    chunk is tombstoned (its UpdateItems returned), the mark of an item of a later chunk and
    of one the pass just tombstoned (that sink died before writing the item itself)."""

    def __init__(self, settings: Settings, client: Any, arns: list[str], seen_at: datetime):
        self.settings = settings
        self.arns = arns
        self.seen_at = seen_at
        self.updated: list[str] = []
        self.later: str | None = None
        self.tombstoned: str | None = None
        self._lock = threading.Lock()
        client.meta.events.register("provide-client-params.dynamodb.UpdateItem", self._before)
        client.meta.events.register("after-call.dynamodb.UpdateItem", self._after_update)

    @staticmethod
    def _before(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["race_arn"] = params["Key"]["arn"]["S"]

    def _after_update(self, context: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.updated.append(context["race_arn"])
            if len(self.updated) != CHUNK or self.later is not None:
                return
            self.tombstoned = self.updated[0]
            self.later = max(set(self.arns) - set(self.updated))
        marks = [
            ec2_observation(arn.rpartition("/")[2], self.seen_at)
            for arn in (self.later, self.tombstoned)
        ]
        seen_marks(self.settings).record(marks)


def racing(settings: Settings, now: datetime, age: timedelta) -> tuple[Any, ConcurrentSink]:
    """A client on fresh tables holding ITEMS observed `age` before now, and the concurrent
    sink that marks two of them (observed a minute before now) during the next pass."""
    client = tables(settings)
    arns = [o.arn for o in observed(settings, now - age)]
    return client, ConcurrentSink(settings, client, arns, now - timedelta(minutes=1))


def assert_only_the_late_marked_kept(
    settings: Settings, race: ConcurrentSink, deletions: list[Deletion]
) -> None:
    """Every item deleted (exactly one DELETED each) but the one marked during the pass."""
    assert race.later is not None and race.tombstoned is not None
    later = race.later.rpartition("/")[2]
    everything = sorted(f"i-{n}" for n in range(ITEMS))
    assert sorted(d.resource_id for d in deletions) == [i for i in everything if i != later]
    items = scan_items(dynamodb_client(settings), settings.sink.table)
    assert [i["resource_id"]["S"] for i in items if "deleted_at_ms" not in i] == [later]


def test_a_mark_written_during_a_failed_pass_keeps_its_item(pipeline: Settings) -> None:
    now = utc_now().replace(microsecond=0)
    client, race = racing(pipeline, now, timedelta(days=2))
    unreachable = Unreachable(
        client,
        pipeline.sink.table,
        seen_marks(pipeline),
        max_stale_s=DAY_S * 3 // 2,
        rewrite_unchanged_after_s=DAY_S,
        ttl=timedelta(days=1),
        chunk_size=CHUNK,
    )
    failed = shard_outcome("sweep-failed", ShardStatus.FAILED, now, error_code="AccessDenied")
    first = unreachable.apply(failed)
    assert_only_the_late_marked_kept(pipeline, race, first)
    # Redelivered: every tombstone of this outcome announced again, the late-marked one too.
    assert unreachable.apply(failed) == first


def test_a_mark_written_during_a_complete_pass_keeps_its_item(pipeline: Settings) -> None:
    now = utc_now().replace(microsecond=0)
    client, race = racing(pipeline, now, timedelta(hours=1))
    tombstoner = Tombstoner(
        client,
        pipeline.sink.table,
        timedelta(days=1),
        seen_marks(pipeline),
        margin_ms=2000,
        chunk_size=CHUNK,
    )
    complete = shard_outcome(
        "sweep-complete",
        ShardStatus.COMPLETE,
        now,
        pages=1,
        described_from=now - timedelta(minutes=5),
    )
    first = tombstoner.sweep_shard(complete)
    assert_only_the_late_marked_kept(pipeline, race, first)
    assert tombstoner.sweep_shard(complete) == first


def test_a_legacy_ttl_written_after_a_shard_was_cleared_is_removed(pipeline: Settings) -> None:
    """sink.max_stale_s 0: an older sink (still running in a rolling upgrade) writes a TTL on
    a live item of a shard this sink cleared; a later FAILED outcome of that shard removes it,
    and a shard found clean is read again once its skip expired."""
    client = tables(pipeline)
    now = utc_now().replace(microsecond=0)
    [item] = observed(pipeline, now - timedelta(minutes=10))[:1]
    clock = [now.timestamp()]
    unreachable = Unreachable(
        client,
        pipeline.sink.table,
        seen_marks(pipeline),
        max_stale_s=0,
        rewrite_unchanged_after_s=DAY_S,
        ttl=timedelta(days=1),
        chunk_size=CHUNK,
        clock=lambda: clock[0],
    )

    def failed(sweep_id: str) -> ShardOutcome:
        return shard_outcome(sweep_id, ShardStatus.FAILED, now, error_code="AccessDenied")

    def old_sink_ttl() -> None:
        client.update_item(
            TableName=pipeline.sink.table,
            Key={"arn": {"S": item.arn}},
            UpdateExpression="SET expires_at = :e",
            ExpressionAttributeValues={":e": {"N": str(int(clock[0]) + 3600)}},
        )

    def ttl_left() -> bool:
        found = client.get_item(
            TableName=pipeline.sink.table, Key={"arn": {"S": item.arn}}, ConsistentRead=True
        )
        return "expires_at" in found["Item"]

    old_sink_ttl()
    assert unreachable.apply(failed("s1")) == []
    assert not ttl_left()
    old_sink_ttl()  # the older sink, after the partition moved
    assert unreachable.apply(failed("s2")) == []
    assert not ttl_left()
    assert unreachable.apply(failed("s3")) == []  # found clean: skipped for a while
    old_sink_ttl()
    clock[0] += 2 * 3600  # the skip expired: the shard is read again
    assert unreachable.apply(failed("s4")) == []
    assert not ttl_left()
