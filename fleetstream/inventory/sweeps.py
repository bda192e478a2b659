"""Sweep progress in DynamoDB: the planner records a sweep's header, the sink each shard outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fleetstream.base.models import ShardOutcome, ShardStatus
from fleetstream.inventory.dynamodb import call_dynamodb

SWEEP_HEADER = "#sweep"


class SweepStore:
    """Records sweep headers and shard outcomes; read by `fleetstream sweep` for progress."""

    def __init__(self, client: Any, table: str, ttl: timedelta) -> None:
        self.client = client
        self.table = table
        self.ttl = ttl

    def record_outcome(self, outcome: ShardOutcome) -> None:
        """Store a shard's outcome (idempotent: same key, same content)."""
        item: dict[str, Any] = {
            "sweep_id": {"S": outcome.sweep_id},
            "shard": {"S": str(outcome.shard)},
            "account_id": {"S": outcome.account_id},
            "account_name": {"S": outcome.account_name},
            "region": {"S": outcome.region},
            "resource_type": {"S": outcome.resource_type},
            "status": {"S": outcome.status.value},
            "resource_count": {"N": str(outcome.resource_count)},
            "pages": {"N": str(outcome.pages)},
            "shard_started_at": {"S": outcome.shard_started_at.isoformat()},
            "finished_at": {"S": outcome.finished_at.isoformat()},
            "expires_at": {"N": str(int((outcome.finished_at + self.ttl).timestamp()))},
        }
        if outcome.error_code:
            item["error_code"] = {"S": outcome.error_code}
        if outcome.reason:
            item["reason"] = {"S": outcome.reason}
        call_dynamodb(self.client, "put_item", TableName=self.table, Item=item)

    def record_sweep(self, sweep_id: str, total_shards: int, started_at: datetime) -> None:
        """Store the header of a sweep once every shard of it has been issued."""
        item = {
            "sweep_id": {"S": sweep_id},
            "shard": {"S": SWEEP_HEADER},
            "total_shards": {"N": str(total_shards)},
            "started_at": {"S": started_at.isoformat()},
            "expires_at": {"N": str(int((started_at + self.ttl).timestamp()))},
        }
        call_dynamodb(self.client, "put_item", TableName=self.table, Item=item)

    def recent(self, limit: int) -> list[tuple[datetime, SweepProgress]]:
        """The newest sweeps by their header's started_at, newest first, with their progress.

        Headers are found by a scan: the table is small (an item per shard outcome, expiring
        after sink.ttl_days). A sweep still issuing its shards has no header yet: not listed.
        """
        headers: list[tuple[datetime, str]] = []
        pages = self.client.get_paginator("scan").paginate(
            TableName=self.table,
            FilterExpression="#shard = :header",
            ProjectionExpression="sweep_id, started_at",
            ExpressionAttributeNames={"#shard": "shard"},
            ExpressionAttributeValues={":header": {"S": SWEEP_HEADER}},
        )
        for page in pages:
            for item in page["Items"]:
                started = datetime.fromisoformat(item["started_at"]["S"])
                headers.append((started, item["sweep_id"]["S"]))
        headers.sort(reverse=True)
        return [(started, self.progress(sweep_id)) for started, sweep_id in headers[:limit]]

    def progress(self, sweep_id: str) -> SweepProgress:
        """Read a sweep's header and every shard outcome recorded so far."""
        total: int | None = None
        shards: list[ShardRecord] = []
        paginator = self.client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table,
            KeyConditionExpression="sweep_id = :s",
            ExpressionAttributeValues={":s": {"S": sweep_id}},
            ConsistentRead=True,
        )
        for page in pages:
            for item in page["Items"]:
                if item["shard"]["S"] == SWEEP_HEADER:
                    total = int(item["total_shards"]["N"])
                else:
                    shards.append(ShardRecord.from_item(item))
        return SweepProgress(sweep_id=sweep_id, total_shards=total, shards=tuple(shards))


@dataclass(frozen=True, slots=True)
class ShardRecord:
    """One recorded shard outcome."""

    shard: str
    account_id: str
    account_name: str
    region: str
    resource_type: str
    status: ShardStatus
    resource_count: int
    pages: int
    error_code: str | None
    reason: str | None
    finished_at: datetime | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ShardRecord:
        """Parse a low-level DynamoDB item of the sweeps table."""
        return cls(
            shard=item["shard"]["S"],
            account_id=item["account_id"]["S"],
            account_name=item.get("account_name", {}).get("S", ""),
            region=item["region"]["S"],
            resource_type=item["resource_type"]["S"],
            status=ShardStatus(item["status"]["S"]),
            resource_count=int(item["resource_count"]["N"]),
            pages=int(item["pages"]["N"]),
            error_code=item.get("error_code", {}).get("S"),
            reason=item.get("reason", {}).get("S"),
            finished_at=datetime.fromisoformat(item["finished_at"]["S"])
            if "finished_at" in item
            else None,
        )


@dataclass(frozen=True, slots=True)
class SweepProgress:
    """Where a sweep stands: its size (once fully issued) and the shards finished so far."""

    sweep_id: str
    total_shards: int | None
    shards: tuple[ShardRecord, ...]

    @property
    def failed(self) -> tuple[ShardRecord, ...]:
        return tuple(s for s in self.shards if s.status is ShardStatus.FAILED)

    def status_counts(self) -> dict[str, int]:
        """Shards per outcome status, and PENDING for those issued without an outcome yet."""
        counts = {status.value: 0 for status in ShardStatus}
        for shard in self.shards:
            counts[shard.status.value] += 1
        issued = self.total_shards if self.total_shards is not None else len(self.shards)
        counts["PENDING"] = max(issued - len(self.shards), 0)
        return counts

    @property
    def resources(self) -> int:
        return sum(s.resource_count for s in self.shards if s.status is ShardStatus.COMPLETE)

    @property
    def finished(self) -> bool:
        """Every issued shard has an outcome (complete or failed)."""
        return self.total_shards is not None and len(self.shards) >= self.total_shards
