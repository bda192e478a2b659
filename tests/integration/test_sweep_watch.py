"""SweepWatch on DynamoDB Local: the progress SweepStore.progress reads, each outcome read once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.models import ShardOutcome, ShardStatus, utc_now
from fleetstream.inventory.dynamodb import Tables
from fleetstream.inventory.sweep_watch import SweepWatch
from fleetstream.inventory.sweeps import SweepStore

pytestmark = pytest.mark.integration
T0 = utc_now().replace(microsecond=0)


class CountingClient:
    """The real client, counting the keys each batch_get_item asks for in full."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.fetched: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_get_item(self, **kwargs: Any) -> Any:
        for request in kwargs["RequestItems"].values():
            self.fetched.extend(key["shard"]["S"] for key in request["Keys"])
        return self._client.batch_get_item(**kwargs)


def outcome(region: int, status: ShardStatus) -> ShardOutcome:
    return ShardOutcome(
        sweep_id="sweep-watch",
        account_id="111111111111",
        region=f"region-{region:03d}",
        resource_type="ec2.instance",
        status=status,
        resource_count=region,
        pages=1,
        shard_started_at=T0,
        finished_at=T0 + timedelta(seconds=region),
        error_code="Throttling" if status is ShardStatus.FAILED else None,
        reason="gave up" if status is ShardStatus.FAILED else None,
    )


def test_watch_matches_full_reads_and_fetches_each_outcome_once(pipeline: Settings) -> None:
    client = CountingClient(dynamodb_client(pipeline))
    table = pipeline.sink.sweeps_table
    Tables(client._client, pipeline.sink.table, table).ensure()
    store = SweepStore(client, table, timedelta(days=1))
    watch = SweepWatch(store, "sweep-watch")
    total = 250  # more than one BatchGetItem's 100 keys

    # Outcomes arrive before the header (the planner writes it once every shard is issued).
    first = [outcome(r, ShardStatus.COMPLETE) for r in range(0, total, 2)]
    for o in first:
        store.record_outcome(o)
    early = watch.poll()
    assert early == store.progress("sweep-watch")
    assert early.total_shards is None and len(early.shards) == len(first)
    assert not early.finished

    store.record_sweep("sweep-watch", total, T0)
    rest = [
        outcome(r, ShardStatus.FAILED if r % 7 == 0 else ShardStatus.COMPLETE)
        for r in range(1, total, 2)
    ]
    for o in rest[:-1]:
        store.record_outcome(o)
    almost = watch.poll()
    assert almost == store.progress("sweep-watch")
    assert almost.total_shards == total and not almost.finished

    store.record_outcome(rest[-1])
    done = watch.poll()
    assert done == store.progress("sweep-watch")
    assert done.finished
    assert len(done.failed) == sum(o.status is ShardStatus.FAILED for o in rest) > 0
    assert watch.poll() == done  # nothing new: nothing more fetched

    shard_keys = [s.shard for s in done.shards]
    # Every outcome was fetched in full exactly once; only the header was asked for again
    # while it was missing (once in the first poll, once in the second, where it was found).
    assert sorted(k for k in client.fetched if k != "#sweep") == sorted(shard_keys)
    assert client.fetched.count("#sweep") == 2
