"""Safe deletion: mark-and-sweep per shard, only after that shard completed cleanly.

When a shard's COMPLETE outcome reaches the sink, every observation the describer made of it
is already written (same partition, earlier offsets). An item of that shard last observed
before the shard started was not seen during the whole run, so the resource is gone: it gets
a tombstone (deleted_at, and absent_since = the shard's start, so that no older observation
can bring it back). A FAILED shard, or one still in flight, never reaches this code.

Each tombstone is a DELETED change event (and a null on the state topic). Crash window: the
tombstone is written before the loop produces the event; a redelivered outcome therefore also
selects the items this very outcome already tombstoned (same sweep, shard start and finish
time), rewrites the identical tombstone and emits the identical event again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from consumers.sink.changes import Deletion
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

    def sweep_shard(self, outcome: ShardOutcome) -> list[Deletion]:
        """Tombstone the shard's unseen items; return what was deleted. Only COMPLETE shards."""
        if outcome.status is not ShardStatus.COMPLETE:
            return []
        started_ms = epoch_ms(outcome.shard_started_at)
        finished_ms = epoch_ms(outcome.finished_at)
        gone = self._unseen(str(outcome.shard), started_ms, finished_ms)
        deleted = [d for arn in gone if (d := self._tombstone(arn, outcome, started_ms))]
        if deleted:
            TOMBSTONES.labels(outcome.resource_type).inc(len(deleted))
            log.info("shard %s: %d resources deleted", outcome.shard, len(deleted))
        return deleted

    def _unseen(self, shard: str, started_ms: int, finished_ms: int) -> list[str]:
        pages = self.client.get_paginator("query").paginate(
            TableName=self.table,
            IndexName=SHARD_INDEX,
            KeyConditionExpression="#shard = :shard",
            # Live items not seen since the shard started, and (a redelivered outcome) those
            # this outcome tombstoned already: deleted_at_ms is in the index, the rest is not.
            FilterExpression=(
                "observed_at_ms < :started "
                "AND (attribute_not_exists(deleted_at_ms) OR deleted_at_ms = :at_ms)"
            ),
            ExpressionAttributeNames={"#shard": "shard"},
            ExpressionAttributeValues={
                ":shard": {"S": shard},
                ":started": {"N": str(started_ms)},
                ":at_ms": {"N": str(finished_ms)},
            },
        )
        return [item["arn"]["S"] for page in pages for item in page["Items"]]

    def _tombstone(self, arn: str, outcome: ShardOutcome, started_ms: int) -> Deletion | None:
        finished = outcome.finished_at
        try:
            response = call_dynamodb(
                self.client,
                "update_item",
                TableName=self.table,
                Key={"arn": {"S": arn}},
                UpdateExpression=(
                    "SET deleted_at = :at, deleted_at_ms = :at_ms, absent_since_ms = :started, "
                    "deleted_by_sweep = :sweep, expires_at = :expires"
                ),
                # The index is eventually consistent: re-check on the item itself, so a
                # resource observed again meanwhile is never tombstoned. The second branch is
                # this same outcome, redelivered: the update rewrites identical values.
                ConditionExpression=(
                    "observed_at_ms < :started AND (attribute_not_exists(deleted_at_ms) OR "
                    "(deleted_at_ms = :at_ms AND absent_since_ms = :started "
                    "AND deleted_by_sweep = :sweep))"
                ),
                ExpressionAttributeValues={
                    ":at": {"S": finished.isoformat()},
                    ":at_ms": {"N": str(epoch_ms(finished))},
                    ":started": {"N": str(started_ms)},
                    ":sweep": {"S": outcome.sweep_id},
                    ":expires": {"N": str(int((finished + self.ttl).timestamp()))},
                },
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise
        old: dict[str, Any] = response.get("Attributes", {})

        def text(name: str) -> str | None:
            return old[name]["S"] if name in old else None

        return Deletion(
            arn=arn,
            account_id=outcome.account_id,
            account_name=text("account_name") or outcome.account_name,
            region=outcome.region,
            resource_type=outcome.resource_type,
            resource_id=text("resource_id") or arn,
            name=text("name"),
            sweep_id=outcome.sweep_id,
            deleted_at=finished,
            old_fingerprint=text("fingerprint"),
            previous_observed_ms=int(old["observed_at_ms"]["N"])
            if "observed_at_ms" in old
            else None,
        )
