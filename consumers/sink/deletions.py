"""Safe deletion: mark-and-sweep per shard, only after that shard completed cleanly.

When a shard's COMPLETE outcome reaches the sink, every observation the describer made of it
is already written (same partition, earlier offsets). An item of that shard last observed
before the shard started was not seen during the whole run, so the resource is gone: it gets
a tombstone (deleted_at, and absent_since = the shard's start, so that no older observation
can bring it back). A FAILED shard, or one still in flight, never reaches this code.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from fleetstream.aws_errors import error_code
from fleetstream.dynamodb import SHARD_INDEX, call_dynamodb
from fleetstream.metrics import TOMBSTONES
from fleetstream.models import ShardOutcome, ShardStatus

log = logging.getLogger(__name__)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, the unit of every *_ms attribute."""
    return int(moment.timestamp() * 1000)


class Tombstoner:
    """Marks the items of a completed shard that its sweep did not see as deleted."""

    def __init__(self, client: Any, table: str, ttl: timedelta) -> None:
        self.client = client
        self.table = table
        self.ttl = ttl

    def sweep_shard(self, outcome: ShardOutcome) -> list[str]:
        """Tombstone the shard's unseen items; return their ARNs. Only COMPLETE shards."""
        if outcome.status is not ShardStatus.COMPLETE:
            return []
        started_ms = epoch_ms(outcome.shard_started_at)
        gone = [arn for arn in self._unseen(str(outcome.shard), started_ms)]
        deleted = [arn for arn in gone if self._tombstone(arn, outcome, started_ms)]
        if deleted:
            TOMBSTONES.labels(outcome.resource_type).inc(len(deleted))
            log.info("shard %s: %d resources deleted", outcome.shard, len(deleted))
        return deleted

    def _unseen(self, shard: str, started_ms: int) -> list[str]:
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table,
            IndexName=SHARD_INDEX,
            KeyConditionExpression="#shard = :shard",
            FilterExpression="observed_at_ms < :started AND attribute_not_exists(deleted_at_ms)",
            ExpressionAttributeNames={"#shard": "shard"},
            ExpressionAttributeValues={":shard": {"S": shard}, ":started": {"N": str(started_ms)}},
        )
        return [item["arn"]["S"] for page in pages for item in page["Items"]]

    def _tombstone(self, arn: str, outcome: ShardOutcome, started_ms: int) -> bool:
        finished = outcome.finished_at
        try:
            call_dynamodb(
                self.client,
                "update_item",
                TableName=self.table,
                Key={"arn": {"S": arn}},
                UpdateExpression=(
                    "SET deleted_at = :at, deleted_at_ms = :at_ms, absent_since_ms = :started, "
                    "deleted_by_sweep = :sweep, expires_at = :expires"
                ),
                # The index is eventually consistent: re-check on the item itself, so a
                # resource observed again meanwhile is never tombstoned.
                ConditionExpression=(
                    "observed_at_ms < :started AND attribute_not_exists(deleted_at_ms)"
                ),
                ExpressionAttributeValues={
                    ":at": {"S": finished.isoformat()},
                    ":at_ms": {"N": str(epoch_ms(finished))},
                    ":started": {"N": str(started_ms)},
                    ":sweep": {"S": outcome.sweep_id},
                    ":expires": {"N": str(int((finished + self.ttl).timestamp()))},
                },
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True
