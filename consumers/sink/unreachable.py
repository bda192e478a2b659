"""Items of shards the describers cannot reach: never expired silently, retired explicitly.

FAILED outcome (the shard keeps failing): its items keep their data. An item still holding a
TTL written by an older version (`expires_at` on a live item) loses it, so DynamoDB never
expires it while nobody can look. With `sink.max_stale_s` > 0, an item neither observed nor
seen (no seen mark holds its ARN) for that long, and at least `sink.rewrite_unchanged_after_s`
(an unchanged item is rewritten only that often), is deleted: DELETED with reason `stale`.

ACCOUNT_GONE outcome (suspended or closed account): the items of the account and type last
observed more than `sink.gone_account_grace_s` (7 days) before the outcome are deleted,
DELETED with reason `account_gone`, through the normal change path; younger ones stay, marked
with the account's status (consumers/sink/accounts.py), until a later sweep's outcome.

Both deletions are conditional tombstones: the item must still hold the very observation
read and no tombstone, and, for a gone account, an observation older than the outcome, so a
newer write (a reinstated account, a shard that recovered) always wins. Neither is evidence
that the resource is absent: absent_since_ms is the observation's time + 1, so any later
observation of it brings it back as CREATED.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError

from consumers.sink.changes import Deletion, deletion_of
from consumers.sink.deletions import epoch_ms
from consumers.sink.seen import SeenMarks, arn_digest
from fleetstream.aws.errors import error_code
from fleetstream.base.errors import RetryBatchError
from fleetstream.base.metrics import SINK_UNPROCESSED, TOMBSTONES
from fleetstream.base.models import ShardOutcome, ShardStatus
from fleetstream.inventory.dynamodb import (
    ACCOUNT_INDEX,
    SHARD_INDEX,
    backoff,
    call_dynamodb,
    chunks,
)

log = logging.getLogger(__name__)

# Live items' observed_at_ms, those holding a legacy TTL, and their shards, by ARN.
_Items = tuple[dict[str, int], set[str], dict[str, str]]

STALE = "stale"
ALL_REGIONS = "*"  # producers/planner.py: an account-level failure, regions unknown
ACCOUNT_GONE = "account_gone"
_READ_ATTEMPTS = 8


class Unreachable:
    """Applies FAILED and ACCOUNT_GONE outcomes to their shards' items."""

    def __init__(
        self,
        client: Any,
        table: str,
        seen: SeenMarks,
        *,
        max_stale_s: int,
        rewrite_unchanged_after_s: int,
        gone_account_grace_s: int = 0,
        ttl: timedelta,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.table = table
        self.seen = seen
        self.stale_after_ms = max(max_stale_s, rewrite_unchanged_after_s) * 1000
        self.enabled = max_stale_s > 0
        self.gone_grace_ms = gone_account_grace_s * 1000
        self.ttl = ttl  # the tombstones expire like the sweeps' ones
        self._clock = clock

    def apply(self, outcome: ShardOutcome) -> list[Deletion]:
        """Retire what the outcome calls for; return the deletions to announce."""
        if outcome.status is ShardStatus.FAILED:
            return self._failed(outcome)
        if outcome.status is ShardStatus.ACCOUNT_GONE:
            return self._gone(outcome)
        return []

    def _failed(self, outcome: ShardOutcome) -> list[Deletion]:
        if outcome.region == ALL_REGIONS:  # an account-level failure: every region's items
            live, legacy, shards = self._account_items(outcome, STALE)
        else:
            live, legacy, shards = self._live(
                outcome,
                STALE,
                IndexName=SHARD_INDEX,
                KeyConditionExpression="#k = :k",
                ExpressionAttributeNames={"#k": "shard"},
                ExpressionAttributeValues={":k": {"S": str(outcome.shard)}},
            )
        self._clear_ttl(live, legacy)
        if not self.enabled:
            return []
        cutoff_ms = int(self._clock() * 1000) - self.stale_after_ms
        old = self._unseen_since(
            {a: ms for a, ms in live.items() if ms < cutoff_ms}, shards, cutoff_ms
        )
        deleted = [d for arn, ms in old.items() if (d := self._retire(arn, ms, outcome, STALE))]
        self._count(outcome, deleted, STALE)
        return deleted

    def _unseen_since(
        self, old: dict[str, int], shards: dict[str, str], cutoff_ms: int
    ) -> dict[str, int]:
        """Those of the old items no seen mark holds since cutoff_ms: with sink.skip_unchanged
        an unchanged item is not rewritten, so its observed_at alone says nothing of when it
        was last seen; its mark does."""
        by_shard: dict[str, list[str]] = {}
        for arn in old:
            by_shard.setdefault(shards[arn], []).append(arn)
        unseen = dict(old)
        for shard, arns in by_shard.items():
            digests = {arn_digest(arn): arn for arn in arns}
            for digest, seen_ms in self.seen.last_seen(shard, list(digests), cutoff_ms).items():
                if seen_ms >= cutoff_ms:
                    unseen.pop(digests[digest], None)  # seen lately: an unchanged, unwritten item
        return unseen

    def _gone(self, outcome: ShardOutcome) -> list[Deletion]:
        live, _legacy, shards = self._account_items(outcome, ACCOUNT_GONE)
        before_ms = int(outcome.finished_at.timestamp() * 1000) - self.gone_grace_ms
        old = self._unseen_since(
            {arn: ms for arn, ms in live.items() if ms < before_ms}, shards, before_ms
        )
        deleted = [
            d for arn, ms in old.items() if (d := self._retire(arn, ms, outcome, ACCOUNT_GONE))
        ]
        self._count(outcome, deleted, ACCOUNT_GONE)
        return deleted

    def _account_items(self, outcome: ShardOutcome, reason: str) -> _Items:
        """The live items of the outcome's account and type, in every region."""
        return self._live(
            outcome,
            reason,
            IndexName=ACCOUNT_INDEX,
            KeyConditionExpression="account_id = :a AND resource_type = :t",
            ExpressionAttributeValues={
                ":a": {"S": outcome.account_id},
                ":t": {"S": outcome.resource_type},
            },
        )

    def _live(self, outcome: ShardOutcome, reason: str, **query: Any) -> _Items:
        """ARN -> observed_at_ms of the live items a query of an index names (read again,
        consistently, from the table: the index may lag), with the ARNs holding a legacy TTL.
        Items this very outcome tombstoned count as live: a redelivered outcome (the sink
        died before producing the DELETED change) rewrites the same tombstone and emits the
        same change again."""
        pages = self.client.get_paginator("query").paginate(TableName=self.table, **query)
        arns = [item["arn"]["S"] for page in pages for item in page["Items"]]
        live: dict[str, int] = {}
        legacy: set[str] = set()
        shards: dict[str, str] = {}
        finished_ms = str(epoch_ms(outcome.finished_at))
        for chunk in chunks(arns, 100):
            for item in self._get(chunk):
                if "observed_at_ms" not in item:
                    continue
                if "deleted_at_ms" in item and not (
                    item["deleted_at_ms"]["N"] == finished_ms
                    and item.get("deleted_reason", {}).get("S") == reason
                    and item.get("deleted_by_sweep", {}).get("S") == outcome.sweep_id
                ):
                    continue
                live[item["arn"]["S"]] = int(item["observed_at_ms"]["N"])
                shards[item["arn"]["S"]] = item["shard"]["S"]
                if "expires_at" in item and "deleted_at_ms" not in item:
                    legacy.add(item["arn"]["S"])
        return live, legacy, shards

    def _get(self, arns: Iterable[str]) -> list[dict[str, Any]]:
        pending: dict[str, Any] = {
            self.table: {
                "Keys": [{"arn": {"S": arn}} for arn in arns],
                "ProjectionExpression": (
                    "arn, #shard, observed_at_ms, deleted_at_ms, expires_at, deleted_reason, "
                    "deleted_by_sweep"
                ),
                "ExpressionAttributeNames": {"#shard": "shard"},
                "ConsistentRead": True,
            }
        }
        found: list[dict[str, Any]] = []
        for attempt in range(_READ_ATTEMPTS):
            response = call_dynamodb(self.client, "batch_get_item", RequestItems=pending)
            found.extend(response.get("Responses", {}).get(self.table, []))
            pending = response.get("UnprocessedKeys") or {}
            # Counted like the store's reads: the metric is every unprocessed key the sink met.
            unprocessed = sum(len(p["Keys"]) for p in pending.values())
            SINK_UNPROCESSED.labels(self.table, "batch_get_item").inc(unprocessed)
            if not pending:
                return found
            backoff(attempt)
        raise RetryBatchError("DynamoDB left keys unprocessed after retries", 5.0)

    def _clear_ttl(self, live: dict[str, int], legacy: set[str]) -> None:
        """Live items keep no TTL: one written by an older version loses it here."""
        for arn in sorted(legacy & live.keys()):
            try:
                call_dynamodb(
                    self.client,
                    "update_item",
                    TableName=self.table,
                    Key={"arn": {"S": arn}},
                    UpdateExpression="REMOVE expires_at",
                    ConditionExpression=(
                        "observed_at_ms = :o AND attribute_not_exists(deleted_at_ms)"
                    ),
                    ExpressionAttributeValues={":o": {"N": str(live[arn])}},
                )
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
        if legacy:
            log.info("%d live items lost a legacy TTL", len(legacy))

    def _retire(
        self, arn: str, observed_ms: int, outcome: ShardOutcome, reason: str
    ) -> Deletion | None:
        # The outcome's time, not the sink's: the same outcome again writes the same values.
        at = outcome.finished_at
        at_ms = epoch_ms(at)
        try:
            response = call_dynamodb(
                self.client,
                "update_item",
                TableName=self.table,
                Key={"arn": {"S": arn}},
                UpdateExpression=(
                    "SET deleted_at = :at, deleted_at_ms = :at_ms, absent_since_ms = :after, "
                    "deleted_by_sweep = :sweep, deleted_reason = :reason, expires_at = :expires"
                ),
                # Only the observation read, never a newer write, never another tombstone; the
                # second branch is this same outcome, redelivered.
                ConditionExpression=(
                    "observed_at_ms = :o AND (attribute_not_exists(deleted_at_ms) OR "
                    "(deleted_at_ms = :at_ms AND deleted_reason = :reason "
                    "AND deleted_by_sweep = :sweep))"
                ),
                ExpressionAttributeValues={
                    ":at": {"S": at.isoformat()},
                    ":at_ms": {"N": str(at_ms)},
                    ":after": {"N": str(observed_ms + 1)},
                    ":sweep": {"S": outcome.sweep_id},
                    ":reason": {"S": reason},
                    ":o": {"N": str(observed_ms)},
                    ":expires": {"N": str(int((at + self.ttl).timestamp()))},
                },
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise
        return deletion_of(arn, response.get("Attributes", {}), outcome, at, reason)

    @staticmethod
    def _count(outcome: ShardOutcome, deleted: list[Deletion], reason: str) -> None:
        if deleted:
            TOMBSTONES.labels(outcome.resource_type).inc(len(deleted))
            log.info("%s %s: %d items deleted (%s)", outcome.shard, reason, len(deleted), reason)
