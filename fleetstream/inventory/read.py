"""Reading the inventory back from DynamoDB (for people and tests)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.models import ShardKey
from fleetstream.inventory.dynamodb import SHARD_INDEX
from fleetstream.inventory.sweeps import ShardRecord, SweepStore


def count_shard(client: Any, table: str, shard: ShardKey) -> int:
    """Live (not tombstoned) items of one shard, counted through the by_shard index."""
    total = 0
    pages = client.get_paginator("query").paginate(
        TableName=table,
        IndexName=SHARD_INDEX,
        KeyConditionExpression="#shard = :s",
        FilterExpression="attribute_not_exists(deleted_at_ms)",
        ExpressionAttributeNames={"#shard": "shard"},
        ExpressionAttributeValues={":s": {"S": str(shard)}},
        Select="COUNT",
    )
    for page in pages:
        total += int(page["Count"])
    return total


def shard_counts(settings: Settings, sweep_id: str) -> list[tuple[ShardRecord, int]]:
    """Every finished shard of a sweep with the number of its items in DynamoDB."""
    client = dynamodb_client(settings)
    sweeps = SweepStore(client, settings.sink.sweeps_table, timedelta(days=settings.sink.ttl_days))
    progress = sweeps.progress(sweep_id)
    return [
        (record, count_shard(client, settings.sink.table, ShardKey.parse(record.shard)))
        for record in sorted(progress.shards, key=lambda r: r.shard)
    ]


def scan_items(client: Any, table: str) -> Iterator[dict[str, Any]]:
    """Every item of a table (small tables: tests and demos)."""
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        yield from page["Items"]
