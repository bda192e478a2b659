"""Cheap repeated progress reads of one sweep, for waiters that poll until it is finished.

SweepStore.progress reads and parses every outcome of the sweep on every call: at 1,920
shards polled 4 times a second that was 19 to 31 s of the waiter's CPU per sweep (issue 16).
An outcome is written once per shard and never changes (SweepStore.record_outcome: same key,
same content; the header likewise), so a watcher may keep what it has read and ask, on each
poll, only which shard keys exist: the full items of keys it has not seen are fetched once.
The progress it returns is the same as SweepStore.progress would return at that moment.
"""

from __future__ import annotations

from typing import Any

from fleetstream.inventory.dynamodb import backoff, call_dynamodb, chunks
from fleetstream.inventory.sweeps import SWEEP_HEADER, ShardRecord, SweepProgress, SweepStore

# BatchGetItem's limit on keys per request.
_BATCH_GET_KEYS = 100


class SweepWatch:
    """Progress of one sweep, read incrementally: call poll() as often as the waiter likes."""

    def __init__(self, store: SweepStore, sweep_id: str) -> None:
        self._client = store.client
        self._table = store.table
        self.sweep_id = sweep_id
        self._total: int | None = None
        self._shards: dict[str, ShardRecord] = {}

    def poll(self) -> SweepProgress:
        """The sweep's header and every shard outcome recorded so far."""
        keys = self._keys()
        new = [key for key in keys if key not in self._shards and key != SWEEP_HEADER]
        if self._total is None:
            # The header is written once every shard is issued; until then keep asking.
            new.append(SWEEP_HEADER)
        for item in self._get(new):
            if item["shard"]["S"] == SWEEP_HEADER:
                self._total = int(item["total_shards"]["N"])
            else:
                record = ShardRecord.from_item(item)
                self._shards[record.shard] = record
        return SweepProgress(
            sweep_id=self.sweep_id,
            total_shards=self._total,
            # In key order, as SweepStore.progress's query returns them.
            shards=tuple(self._shards[key] for key in keys if key in self._shards),
        )

    def _keys(self) -> list[str]:
        """Every sort key of the sweep, header included: the keys alone, so a poll parses one
        short string per shard instead of a dozen attributes."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="sweep_id = :s",
            ExpressionAttributeValues={":s": {"S": self.sweep_id}},
            # `shard` is a reserved word in DynamoDB expressions.
            ProjectionExpression="#k",
            ExpressionAttributeNames={"#k": "shard"},
            ConsistentRead=True,
        )
        return [item["shard"]["S"] for page in pages for item in page["Items"]]

    def _get(self, shards: list[str]) -> list[dict[str, Any]]:
        """The full items of these shard keys (a missing header is simply not returned)."""
        items: list[dict[str, Any]] = []
        for chunk in chunks(shards, _BATCH_GET_KEYS):
            pending: dict[str, Any] = {
                self._table: {
                    "Keys": [
                        {"sweep_id": {"S": self.sweep_id}, "shard": {"S": shard}} for shard in chunk
                    ],
                    # Consistent like the key query: a key just listed is readable in full.
                    "ConsistentRead": True,
                }
            }
            attempt = 0
            while pending:
                response = call_dynamodb(self._client, "batch_get_item", RequestItems=pending)
                items.extend(response["Responses"].get(self._table, []))
                pending = response.get("UnprocessedKeys") or {}
                if pending:
                    attempt += 1
                    backoff(attempt)
        return items
