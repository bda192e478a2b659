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

Both read the items a page and a chunk (sink.outcome_chunk_size) at a time and serve the
consumer group between chunks and writes (consumers/sink/pacing.py), like the Tombstoner: a
shard or account of any size neither lives in memory at once nor outlives
max.poll.interval.ms. The seen marks are read again for every chunk: a mark another sink
writes meanwhile (an unchanged item it observed, and so did not rewrite) keeps its item, which
the conditional tombstone alone would not. Items this very outcome tombstoned already are
tombstoned (and announced) again whatever their marks say: a redelivered outcome never leaves
a tombstone without its DELETED change.

With sink.max_stale_s 0, a shard (or account) whose pass found no legacy TTL at all is not
read again by this process for an hour: this version never writes a TTL on a live item, so a
later FAILED outcome of that shard would read all of its items to find none. Not for longer,
and never after a pass that found one: during a rolling upgrade an older sink can still write
a TTL on a live item of that shard after its partition moved.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from botocore.exceptions import ClientError
from cachetools import TTLCache

from consumers.sink.changes import Deletion, deletion_of
from consumers.sink.deletions import epoch_ms
from consumers.sink.pacing import KeepAlive, in_chunks, no_keep_alive, paced_map
from consumers.sink.seen import SeenMarks, arn_digest
from fleetstream.aws.errors import error_code
from fleetstream.base.errors import RetryBatchError
from fleetstream.base.metrics import OUTCOME_CHUNKS, SINK_UNPROCESSED, TOMBSTONES
from fleetstream.base.models import ShardOutcome, ShardStatus
from fleetstream.inventory.dynamodb import (
    ACCOUNT_INDEX,
    SHARD_INDEX,
    backoff,
    call_dynamodb,
    chunks,
    paginate_dynamodb,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Items:
    """What a chunk's consistent read found, by ARN."""

    live: dict[str, int] = field(default_factory=dict)  # observed_at_ms
    legacy: set[str] = field(default_factory=set)  # holding a TTL an older version wrote
    shards: dict[str, str] = field(default_factory=dict)
    mine: set[str] = field(default_factory=set)  # tombstoned by this very outcome already


STALE = "stale"
ALL_REGIONS = "*"  # producers/planner.py: an account-level failure, regions unknown
ACCOUNT_GONE = "account_gone"
_READ_ATTEMPTS = 8
_WRITE_THREADS = 8
# Shards and accounts found free of legacy TTLs: bounded (one key of ~60 bytes each, about
# 6 MB at most, more shards than a large estate has), and forgotten after an hour so that a
# TTL an older sink still running in a rolling upgrade wrote meanwhile is found by the next
# FAILED outcome after that; an hour of FAILED outcomes of one shard cost one read, not each.
_CLEAN_MAXSIZE = 100_000
_CLEAN_TTL_S = 3600


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
        chunk_size: int = 500,
        keep_alive: KeepAlive = no_keep_alive,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.table = table
        self.seen = seen
        self.stale_after_ms = max(max_stale_s, rewrite_unchanged_after_s) * 1000
        self.enabled = max_stale_s > 0
        self.gone_grace_ms = gone_account_grace_s * 1000
        self.ttl = ttl  # the tombstones expire like the sweeps' ones
        self.chunk_size = chunk_size
        self.keep_alive = keep_alive
        self._clock = clock
        # Shards and accounts (index query keys) whose last pass found no legacy TTL.
        self._ttl_clean: TTLCache[str, bool] = TTLCache(_CLEAN_MAXSIZE, _CLEAN_TTL_S, timer=clock)

    def apply(self, outcome: ShardOutcome) -> list[Deletion]:
        """Retire what the outcome calls for; return the deletions to announce."""
        if outcome.status is ShardStatus.FAILED:
            return self._failed(outcome)
        if outcome.status is ShardStatus.ACCOUNT_GONE:
            return self._gone(outcome)
        return []

    def _failed(self, outcome: ShardOutcome) -> list[Deletion]:
        if outcome.region == ALL_REGIONS:  # an account-level failure: every region's items
            scope, query = _account_query(outcome)
        else:
            scope, query = _shard_query(outcome)
        if not self.enabled and scope in self._ttl_clean:
            return []  # nothing to retire, and no legacy TTL found lately
        cutoff_ms = int(self._clock() * 1000) - self.stale_after_ms
        deleted, legacy = self._in_chunks(outcome, STALE, cutoff_ms, query, clear_ttl=True)
        if not legacy:
            self._ttl_clean[scope] = True
        return deleted

    def _gone(self, outcome: ShardOutcome) -> list[Deletion]:
        before_ms = int(outcome.finished_at.timestamp() * 1000) - self.gone_grace_ms
        _scope, query = _account_query(outcome)
        deleted, _legacy = self._in_chunks(outcome, ACCOUNT_GONE, before_ms, query, clear_ttl=False)
        return deleted

    def _in_chunks(
        self,
        outcome: ShardOutcome,
        reason: str,
        cutoff_ms: int,
        query: dict[str, Any],
        *,
        clear_ttl: bool,
    ) -> tuple[list[Deletion], bool]:
        """Retire the items the index query names that were neither observed nor seen since
        cutoff_ms (a FAILED outcome: only when sink.max_stale_s is on), a chunk at a time;
        the deletions, and whether any live item held a legacy TTL."""
        retire = reason == ACCOUNT_GONE or self.enabled
        deleted: list[Deletion] = []
        cleared = 0
        legacy = False
        pool = ThreadPoolExecutor(_WRITE_THREADS)
        try:
            for chunk in in_chunks(self._arns(query), self.chunk_size, self.keep_alive):
                found = self._live(chunk, outcome, reason)
                legacy = legacy or bool(found.legacy)
                if clear_ttl:
                    cleared += self._clear_ttl(pool, found.live, found.legacy)
                if retire:
                    # Read again for every chunk: a mark written since the last chunk (another
                    # sink observed an unchanged item and did not rewrite it) must keep it.
                    seen: dict[str, set[bytes]] = {}  # by shard: the digests since cutoff_ms
                    old = [
                        (arn, ms)
                        for arn, ms in found.live.items()
                        if ms < cutoff_ms
                        and (
                            arn in found.mine
                            or arn_digest(arn) not in self._seen(seen, found.shards[arn], cutoff_ms)
                        )
                    ]
                    done = paced_map(
                        pool,
                        lambda c: self._retire(c[0], c[1], outcome, reason),
                        old,
                        self.keep_alive,
                    )
                    deleted.extend(d for d in done if d is not None)
                OUTCOME_CHUNKS.labels(reason).inc()
        finally:
            # The partition lost: writes not started yet are never made (the new owner redoes
            # the outcome); those under way are conditional on the observation they read.
            pool.shutdown(wait=True, cancel_futures=True)
        if cleared:
            log.info("%d live items lost a legacy TTL", cleared)
        self._count(outcome, deleted, reason)
        return deleted, legacy

    def _seen(self, seen: dict[str, set[bytes]], shard: str, cutoff_ms: int) -> set[bytes]:
        """The digests a mark of the shard holds from after cutoff_ms on, read once per
        chunk: with sink.skip_unchanged an unchanged item is not rewritten, so its
        observed_at alone says nothing of when it was last seen; its mark does."""
        if shard not in seen:
            seen[shard] = self.seen.digests_since(shard, cutoff_ms + 1, self.keep_alive)
        return seen[shard]

    def _arns(self, query: dict[str, Any]) -> Iterator[str]:
        """The ARNs an index query names, a page at a time as the caller goes (never all)."""
        pages = paginate_dynamodb(
            self.client,
            "query",
            TableName=self.table,
            PaginationConfig={"PageSize": self.chunk_size},
            **query,
        )
        for page in pages:
            self.keep_alive()
            for item in page["Items"]:
                yield item["arn"]["S"]

    def _live(self, arns: list[str], outcome: ShardOutcome, reason: str) -> _Items:
        """ARN -> observed_at_ms of the live items among these ARNs (read again, consistently,
        from the table: the index may lag), with the ARNs holding a legacy TTL. Items this
        very outcome tombstoned count as live: a redelivered outcome (the sink died before
        producing the DELETED change) rewrites the same tombstone and emits the same change
        again."""
        found = _Items()
        finished_ms = str(epoch_ms(outcome.finished_at))
        for chunk in chunks(arns, 100):
            self.keep_alive()
            for item in self._get(chunk):
                if "observed_at_ms" not in item:
                    continue
                if "deleted_at_ms" in item and not (
                    item["deleted_at_ms"]["N"] == finished_ms
                    and item.get("deleted_reason", {}).get("S") == reason
                    and item.get("deleted_by_sweep", {}).get("S") == outcome.sweep_id
                ):
                    continue
                arn = item["arn"]["S"]
                found.live[arn] = int(item["observed_at_ms"]["N"])
                found.shards[arn] = item["shard"]["S"]
                if "deleted_at_ms" in item:
                    found.mine.add(arn)
                elif "expires_at" in item:
                    found.legacy.add(arn)
        return found

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

    def _clear_ttl(self, pool: ThreadPoolExecutor, live: dict[str, int], legacy: set[str]) -> int:
        """Live items keep no TTL: one written by an older version loses it here. The number
        cleared: an item rewritten meanwhile (its condition failed) is not."""
        stale = sorted(legacy & live.keys())
        return sum(
            paced_map(pool, lambda arn: self._clear_one(arn, live[arn]), stale, self.keep_alive)
        )

    def _clear_one(self, arn: str, observed_ms: int) -> int:
        try:
            call_dynamodb(
                self.client,
                "update_item",
                TableName=self.table,
                Key={"arn": {"S": arn}},
                UpdateExpression="REMOVE expires_at",
                ConditionExpression="observed_at_ms = :o AND attribute_not_exists(deleted_at_ms)",
                ExpressionAttributeValues={":o": {"N": str(observed_ms)}},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return 0
        return 1

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


def _shard_query(outcome: ShardOutcome) -> tuple[str, dict[str, Any]]:
    """The shard index query of the outcome's shard, and its key."""
    return f"shard {outcome.shard}", {
        "IndexName": SHARD_INDEX,
        "KeyConditionExpression": "#k = :k",
        "ExpressionAttributeNames": {"#k": "shard"},
        "ExpressionAttributeValues": {":k": {"S": str(outcome.shard)}},
    }


def _account_query(outcome: ShardOutcome) -> tuple[str, dict[str, Any]]:
    """The account index query of the outcome's account and type (every region), and its key."""
    return f"account {outcome.account_id}/{outcome.resource_type}", {
        "IndexName": ACCOUNT_INDEX,
        "KeyConditionExpression": "account_id = :a AND resource_type = :t",
        "ExpressionAttributeValues": {
            ":a": {"S": outcome.account_id},
            ":t": {"S": outcome.resource_type},
        },
    }
