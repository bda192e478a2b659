"""Seen marks: which ARNs of a shard the sink was given, at which observation time.

The evidence deletion relies on, instead of a rewrite of every item on every sweep. For each
(shard, sweep, observation time) group of a batch the sink puts one item into the seen-marks
table, before any inventory write of the batch:

  key     shard (S, "account/region/type") + mark (S, "<observed_ms:013d>#<sweep_id>#<part>")
  fields  observed_ms (N), sweep_id (S), arns (B: sorted 8-byte blake2b digests of the ARNs),
          count (N), expires_at (N, TTL: max(observed, now) + sink.seen_retention_s)
  LSI     by_sweep: shard + sweep_id, so one shard's marks of one sweep are one query

A refusal mark (`refused` BOOL true, written by record_refused) says the sink refused some
observations of that (shard, sweep) for a time too far ahead of its clock: the resources exist
but no mark of their time can be trusted. Its sort key holds the sink's clock at the refusal
(it orders nothing), its digests are kept for diagnosis only and count as seen for nobody; a
COMPLETE outcome of that sweep deletes nothing in that shard (consumers/sink/deletions.py).

A put is idempotent (same key, same content); a redelivered batch cut differently writes other
parts, whose union still covers every observation. Every time in a mark is a describer's
observation time, so comparing it with the shard's start as a describer measured it compares
times of the same kind of clock, never the planner's.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fleetstream.base.errors import RetryBatchError
from fleetstream.base.metrics import SINK_SEEN_MARKS, SINK_UNPROCESSED, SINK_WRITE_UNITS
from fleetstream.base.models import Observation
from fleetstream.inventory.dynamodb import (
    SWEEP_INDEX,
    backoff,
    call_dynamodb,
    chunks,
    paginate_dynamodb,
)

DIGEST_BYTES = 8
# 20,000 digests = 160 KB per mark, well under DynamoDB's 400 KB item limit.
_DIGESTS_PER_MARK = 20_000
_WRITE_ATTEMPTS = 8


def arn_digest(arn: str) -> bytes:
    """The 8-byte digest a mark holds for an ARN (a collision can only keep an item, never
    delete one: a deleted resource whose digest collides with a seen one looks seen)."""
    return hashlib.blake2b(arn.encode(), digest_size=DIGEST_BYTES).digest()


def unpack(blob: bytes) -> Iterator[bytes]:
    """The digests packed in a mark."""
    return (blob[i : i + DIGEST_BYTES] for i in range(0, len(blob), DIGEST_BYTES))


def part_name(digests: Sequence[bytes]) -> str:
    """A mark part's name: a hash of every digest it holds. Two parts share a key only when
    they hold the same digests, so a put never replaces a mark with one of other content (a
    zombie sink's differently cut batch writes beside the new owner's marks, never over them)."""
    return hashlib.blake2b(b"".join(digests), digest_size=16).hexdigest()


def mark_key(observed_ms: int, sweep_id: str, part: str = "") -> str:
    """The sort key: time first, so a key range is a time range."""
    return f"{observed_ms:013d}#{sweep_id}#{part}"


def _epoch_ms(observation: Observation) -> int:
    return int(observation.observed_at.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class Mark:
    """One stored mark."""

    observed_ms: int
    sweep_id: str
    digests: bytes
    # A refusal mark: no evidence of when its digests were seen; their sweep deletes nothing.
    refused: bool = False


def _mark(item: dict[str, Any]) -> Mark:
    return Mark(
        int(item["observed_ms"]["N"]),
        item["sweep_id"]["S"],
        item["arns"]["B"],
        refused=item.get("refused", {}).get("BOOL", False),
    )


class SeenMarks:
    """Writes and reads the seen-marks table."""

    def __init__(
        self,
        client: Any,
        table: str,
        retention_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.table = table
        self.retention_s = retention_s
        self._clock = clock
        SINK_UNPROCESSED.labels(table, "batch_write_item")

    def record(self, observations: Iterable[Observation]) -> int:
        """Put the marks of these observations (grouped); return how many marks."""
        groups: dict[tuple[str, str, int], set[bytes]] = {}
        for observation in observations:
            key = (str(observation.shard), observation.sweep_id, _epoch_ms(observation))
            groups.setdefault(key, set()).add(arn_digest(observation.arn))
        now_s = int(self._clock())
        requests: list[dict[str, Any]] = []
        for (shard, sweep_id, observed_ms), digests in groups.items():
            ordered = sorted(digests)
            expires = max(observed_ms // 1000, now_s) + self.retention_s
            for part in chunks(ordered, _DIGESTS_PER_MARK):
                item = _mark_item(shard, sweep_id, observed_ms, part_name(part), part, expires)
                requests.append({"PutRequest": {"Item": item}})
        return self._put(requests)

    def record_refused(self, observations: Iterable[Observation], now_ms: int) -> int:
        """Put one refusal mark per (shard, sweep) of these refused observations; return how
        many. Written before the batch's offsets are stored, so the outcome that follows on
        the same partition finds it."""
        groups: dict[tuple[str, str], set[bytes]] = {}
        for observation in observations:
            key = (str(observation.shard), observation.sweep_id)
            groups.setdefault(key, set()).add(arn_digest(observation.arn))
        expires = now_ms // 1000 + self.retention_s
        requests: list[dict[str, Any]] = []
        for (shard, sweep_id), digests in groups.items():
            # One mark per group: the digests are diagnosis only, at most one batch's worth.
            ordered = sorted(digests)[:_DIGESTS_PER_MARK]
            name = f"refused-{part_name(ordered)}"
            item = _mark_item(shard, sweep_id, now_ms, name, ordered, expires)
            item["refused"] = {"BOOL": True}
            requests.append({"PutRequest": {"Item": item}})
        return self._put(requests)

    def _put(self, requests: list[dict[str, Any]]) -> int:
        """Write the marks' put requests (idempotent) in batches; return how many."""
        for chunk in chunks(requests, 25):
            self._batch_write(list(chunk))
        SINK_SEEN_MARKS.labels(self.table).inc(len(requests))
        return len(requests)

    def marks(self, shard: str, from_ms: int) -> Iterator[Mark]:
        """Every mark of a shard observed at from_ms or later (consistent reads)."""
        pages = paginate_dynamodb(
            self.client,
            "query",
            TableName=self.table,
            KeyConditionExpression="#shard = :shard AND #mark >= :from",
            ExpressionAttributeNames={"#shard": "shard", "#mark": "mark"},
            ExpressionAttributeValues={
                ":shard": {"S": shard},
                ":from": {"S": f"{max(0, from_ms):013d}"},
            },
            ProjectionExpression="observed_ms, sweep_id, arns, refused",
            ConsistentRead=True,
        )
        for page in pages:
            for item in page["Items"]:
                yield _mark(item)

    def sweep_marks(self, shard: str, sweep_id: str) -> Iterator[Mark]:
        """Every mark of a shard written for one sweep, whatever its time (consistent reads)."""
        pages = paginate_dynamodb(
            self.client,
            "query",
            TableName=self.table,
            IndexName=SWEEP_INDEX,
            KeyConditionExpression="#shard = :shard AND sweep_id = :sweep",
            ExpressionAttributeNames={"#shard": "shard"},
            ExpressionAttributeValues={":shard": {"S": shard}, ":sweep": {"S": sweep_id}},
            ProjectionExpression="observed_ms, sweep_id, arns, refused",
            ConsistentRead=True,
        )
        for page in pages:
            for item in page["Items"]:
                yield _mark(item)

    def digests_since(self, shard: str, from_ms: int, keep_alive: Callable[[], None]) -> set[bytes]:
        """The digests of every mark of a shard observed at from_ms or later; a refusal mark's
        are left out (its time is the sink's, not an observation's). keep_alive runs once per
        mark read: a mark holds up to 20,000 digests."""
        seen: set[bytes] = set()
        for mark in self.marks(shard, from_ms):
            keep_alive()
            if not mark.refused:
                seen.update(unpack(mark.digests))
        return seen

    def last_seen(self, shard: str, digests: Sequence[bytes], after_ms: int) -> dict[bytes, int]:
        """For those of these digests that a mark later than after_ms holds: the latest time."""
        wanted = set(digests)
        latest: dict[bytes, int] = {}
        for mark in self.marks(shard, after_ms + 1):
            if mark.refused:
                continue
            for digest in unpack(mark.digests):
                if digest in wanted and mark.observed_ms > latest.get(digest, -1):
                    latest[digest] = mark.observed_ms
        return latest

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {self.table: requests}
        for attempt in range(_WRITE_ATTEMPTS):
            response = call_dynamodb(
                self.client,
                "batch_write_item",
                RequestItems=pending,
                ReturnConsumedCapacity="TOTAL",
            )
            for used in response.get("ConsumedCapacity") or []:
                SINK_WRITE_UNITS.labels(self.table).inc(used.get("CapacityUnits", 0))
            pending = response.get("UnprocessedItems") or {}
            unprocessed = sum(len(r) for r in pending.values())
            SINK_UNPROCESSED.labels(self.table, "batch_write_item").inc(unprocessed)
            if not pending:
                return
            backoff(attempt)
        raise RetryBatchError("DynamoDB left seen marks unprocessed after retries", 5.0)


def _mark_item(
    shard: str,
    sweep_id: str,
    observed_ms: int,
    name: str,
    digests: Sequence[bytes],
    expires_at: int,
) -> dict[str, Any]:
    """One mark: the digests a shard's sweep was seen with at observed_ms (part `name`)."""
    return {
        "shard": {"S": shard},
        "mark": {"S": mark_key(observed_ms, sweep_id, name)},
        "observed_ms": {"N": str(observed_ms)},
        "sweep_id": {"S": sweep_id},
        "arns": {"B": b"".join(digests)},
        "count": {"N": str(len(digests))},
        "expires_at": {"N": str(expires_at)},
    }
