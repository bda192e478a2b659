"""Durable positions in the inventory table's stream: one item per (stream, shard).

The position is written only after the records up to it are in Kafka (produced and flushed),
so a reader that crashes resumes after its last checkpoint and reads at most one batch again.
Re-read removals produce identical records (same change_id, same state tombstone), so the
duplicates are idempotent for consumers. A closed shard read to its end is marked `closed`:
its children may then be read (lineage), and the item expires two days later, after DynamoDB
has trimmed the shard (streams keep records 24 hours).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fleetstream.inventory.dynamodb import call_dynamodb, create_table, paginate_dynamodb

_KEEP_CLOSED_S = 2 * 86_400


@dataclass(frozen=True, slots=True)
class Position:
    """Where one shard was read to."""

    shard_id: str
    sequence: str | None  # the last record processed; None: nothing yet
    closed: bool = False  # read to its end, children may go


class Checkpoints:
    """Reads and writes positions of one stream in the checkpoint table."""

    def __init__(self, client: Any, table: str, stream_arn: str) -> None:
        self.client = client
        self.table = table
        self.stream_arn = stream_arn

    def ensure(self) -> None:
        """Create the table (on demand, TTL on expires_at) unless it exists."""
        if self.table not in set(self.client.list_tables()["TableNames"]):
            create_table(
                self.client,
                self.table,
                keys=[("stream_arn", "HASH"), ("shard_id", "RANGE")],
                attributes={"stream_arn": "S", "shard_id": "S"},
            )

    def load(self) -> dict[str, Position]:
        """Every position of this stream, by shard id (consistent read)."""
        pages = paginate_dynamodb(
            self.client,
            "query",
            TableName=self.table,
            KeyConditionExpression="stream_arn = :s",
            ExpressionAttributeValues={":s": {"S": self.stream_arn}},
            ConsistentRead=True,
        )
        positions: dict[str, Position] = {}
        for page in pages:
            for item in page["Items"]:
                shard = item["shard_id"]["S"]
                sequence = item["sequence"]["S"] if "sequence" in item else None
                positions[shard] = Position(
                    shard, sequence, item.get("closed", {}).get("BOOL", False)
                )
        return positions

    def save(self, position: Position) -> None:
        """Store a position (after its records are in Kafka)."""
        item: dict[str, Any] = {
            "stream_arn": {"S": self.stream_arn},
            "shard_id": {"S": position.shard_id},
            "closed": {"BOOL": position.closed},
            "saved_at": {"N": str(int(time.time()))},
        }
        if position.sequence is not None:
            item["sequence"] = {"S": position.sequence}
        if position.closed:
            item["expires_at"] = {"N": str(int(time.time()) + _KEEP_CLOSED_S)}
        call_dynamodb(self.client, "put_item", TableName=self.table, Item=item)
