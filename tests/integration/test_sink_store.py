"""The inventory table on DynamoDB Local: idempotent, ordered by observation time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from consumers.sink.store import InventoryStore
from fleetstream.aws import dynamodb_client
from fleetstream.config import Settings
from fleetstream.dynamodb import Tables
from fleetstream.inventory_read import count_shard, scan_items
from fleetstream.models import Observation, ShardKey
from tests.integration.helpers import seen_marks

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


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
    store = InventoryStore(client, pipeline.sink.table, timedelta(days=1), seen_marks(pipeline))
    newer = T0 + timedelta(minutes=5)

    assert store.write([observation("i-1", newer, "new"), observation("i-2", T0, "old")]) == 2
    # A late, older observation of i-1 (and a newer one of i-2) arrive in a later batch.
    assert store.write([observation("i-1", T0, "old"), observation("i-2", newer, "new")]) == 1
    assert teams(client, pipeline.sink.table) == {"i-1": "new", "i-2": "new"}

    # Within one batch the newest observation per ARN wins, whatever the order.
    store.write([observation("i-3", newer, "new"), observation("i-3", T0, "old")])
    assert teams(client, pipeline.sink.table)["i-3"] == "new"

    # Replaying the same observation is harmless.
    assert store.write([observation("i-1", newer, "new")]) == 1
    assert teams(client, pipeline.sink.table) == {"i-1": "new", "i-2": "new", "i-3": "new"}


def test_batches_beyond_dynamodb_limits_are_chunked(pipeline: Settings) -> None:
    client = dynamodb_client(pipeline)
    Tables(client, pipeline.sink.table, pipeline.sink.sweeps_table).ensure()
    store = InventoryStore(client, pipeline.sink.table, timedelta(days=1), seen_marks(pipeline))
    # 260 items: more than one BatchGetItem (100) and many BatchWriteItem (25) requests.
    written = store.write([observation(f"i-{n:04d}", T0, "t") for n in range(260)])
    assert written == 260
    shard = ShardKey("111111111111", "us-east-1", "ec2.instance")
    assert count_shard(client, pipeline.sink.table, shard) == 260
