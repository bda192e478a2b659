"""Safe deletion: mark-and-sweep per shard, only after that shard completed cleanly.

When a shard's COMPLETE outcome reaches the sink, every observation the describer made of it
is already written (same partition, earlier offsets), and so are their seen marks
(consumers/sink/seen.py). The evidence is measured on describers' clocks only: the outcome's
`described_from` is the time the describer that took the shard's first page started it, and
the marks hold observation times. With margin = sink.clock_skew_margin_ms:

  seen       = the digests of the shard's marks observed at described_from - margin or later,
               and of every mark of this sweep (from a describer whose clock is behind)
  candidates = live items of the shard observed before described_from - margin
  deleted    = the candidates not in seen

No candidate is compared with the planner's or the router's clock, so a planner running
ahead deletes nothing. An outcome without described_from (an older describer's) deletes
nothing, nor does one whose start is older than the marks are kept, nor one of a sweep for
which the sink refused an observation of the shard as future-dated (a refusal mark: that
resource exists but left no mark of its time; consumers/sink/clocks.py).

Each deletion is a conditional UpdateItem on the observed_at_ms the selection read: a write
by another sink meanwhile (after a rebalance) wins. The tombstone keeps absent_since_ms =
described_from, so no observation made before the run that did not see it brings it back.
Each tombstone is a DELETED change event (and a null on the state topic). Crash window: the
tombstone is written before the loop produces the event; a redelivered outcome therefore also
selects the items this very outcome already tombstoned (same sweep, start and finish time),
rewrites the identical tombstone and emits the identical event again, whatever the marks say
of it by then: a tombstone never stays without its DELETED change.

The marks since the cutoff are read again for every chunk of candidates: with
sink.skip_unchanged, another sink (a later sweep) that observes an unchanged item meanwhile
writes its mark and not the item, so the conditional tombstone alone would still delete it.
This sweep's own marks are read once: they precede the outcome on its partition.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from consumers.sink.changes import Deletion, deletion_of
from consumers.sink.pacing import KeepAlive, in_chunks, no_keep_alive, paced_map
from consumers.sink.seen import Mark, SeenMarks, arn_digest, unpack
from fleetstream.aws.errors import error_code
from fleetstream.base.metrics import (
    DELETIONS_WITHHELD,
    OUTCOME_CHUNKS,
    TOMBSTONE_CONFLICTS,
    TOMBSTONES,
)
from fleetstream.base.models import ShardOutcome, ShardStatus
from fleetstream.inventory.dynamodb import SHARD_INDEX, call_dynamodb, paginate_dynamodb

log = logging.getLogger(__name__)

# Marks are used only while this much younger than their retention: TTL may delete them early
# by clock error, never by hours.
EVIDENCE_SAFETY_S = 3600
_TOMBSTONE_THREADS = 8


class _Candidate(NamedTuple):
    arn: str
    observed_ms: int
    mine: bool  # tombstoned already, by this very outcome (a redelivery)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, the unit of every *_ms attribute."""
    return int(moment.timestamp() * 1000)


class Tombstoner:
    """Marks the items of a completed shard that its sweep did not see as deleted."""

    def __init__(
        self,
        client: Any,
        table: str,
        ttl: timedelta,
        seen: SeenMarks,
        *,
        margin_ms: int,
        chunk_size: int = 500,
        keep_alive: KeepAlive = no_keep_alive,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.table = table
        self.ttl = ttl
        self.seen = seen
        self.margin_ms = margin_ms
        self.chunk_size = chunk_size
        self.keep_alive = keep_alive
        self._clock = clock

    def sweep_shard(self, outcome: ShardOutcome) -> list[Deletion]:
        """Tombstone the shard's unseen items; return what was deleted. Only COMPLETE shards."""
        if outcome.status is not ShardStatus.COMPLETE:
            return []
        if outcome.described_from is None:
            DELETIONS_WITHHELD.labels("no_described_from").inc()
            log.warning(
                "shard %s (sweep %s) completed without described_from (an older describer): "
                "nothing deleted",
                outcome.shard,
                outcome.sweep_id,
            )
            return []
        from_ms = epoch_ms(outcome.described_from)
        usable_ms = (self.seen.retention_s - EVIDENCE_SAFETY_S) * 1000
        if self._clock() * 1000 - from_ms > usable_ms:
            DELETIONS_WITHHELD.labels("evidence_expired").inc()
            log.warning(
                "shard %s (sweep %s) started at %s, before the seen marks still kept: "
                "nothing deleted",
                outcome.shard,
                outcome.sweep_id,
                outcome.described_from.isoformat(),
            )
            return []
        shard = str(outcome.shard)
        cutoff_ms = from_ms - self.margin_ms
        this_sweep = list(self.seen.sweep_marks(shard, outcome.sweep_id))
        if any(mark.refused for mark in this_sweep):
            DELETIONS_WITHHELD.labels("refused_observation").inc()
            log.warning(
                "shard %s (sweep %s): an observation of this sweep was refused as future-dated "
                "(a describer's clock far ahead): nothing deleted",
                outcome.shard,
                outcome.sweep_id,
            )
            return []
        finished_ms = epoch_ms(outcome.finished_at)
        candidates = self._candidates(shard, cutoff_ms, finished_ms)
        deleted: list[Deletion] = []
        pool = ThreadPoolExecutor(_TOMBSTONE_THREADS)
        try:
            # A chunk of candidates at a time, the group served between every two writes.
            for chunk in in_chunks(candidates, self.chunk_size, self.keep_alive):
                seen = self._seen(shard, cutoff_ms, this_sweep)
                gone = [c for c in chunk if c.mine or arn_digest(c.arn) not in seen]
                done = 0
                for result in paced_map(
                    pool,
                    lambda c: self._tombstone(c.arn, c.observed_ms, outcome, from_ms),
                    gone,
                    self.keep_alive,
                ):
                    done += result is not None
                    if result is not None:
                        deleted.append(result)
                OUTCOME_CHUNKS.labels("tombstone").inc()
                if done < len(gone):
                    TOMBSTONE_CONFLICTS.labels(outcome.resource_type).inc(len(gone) - done)
        finally:
            # The partition lost: writes not started yet are never made (the new owner redoes
            # the outcome); those under way are conditional on the observation they read.
            pool.shutdown(wait=True, cancel_futures=True)
        if deleted:
            TOMBSTONES.labels(outcome.resource_type).inc(len(deleted))
            log.info("shard %s: %d resources deleted", outcome.shard, len(deleted))
        return deleted

    def _seen(self, shard: str, cutoff_ms: int, this_sweep: list[Mark]) -> set[bytes]:
        seen = self.seen.digests_since(shard, cutoff_ms, self.keep_alive)
        # This sweep's pages described by a describer whose clock is behind the first page's.
        for mark in this_sweep:
            if mark.observed_ms < cutoff_ms:
                seen.update(unpack(mark.digests))
        return seen

    def _candidates(self, shard: str, cutoff_ms: int, finished_ms: int) -> Iterator[_Candidate]:
        """The shard's candidates, read a page at a time as the caller goes (never all)."""
        pages = paginate_dynamodb(
            self.client,
            "query",
            TableName=self.table,
            IndexName=SHARD_INDEX,
            KeyConditionExpression="#shard = :shard",
            # One page per chunk at most: no single read outlives the group's poll interval.
            PaginationConfig={"PageSize": self.chunk_size},
            # Live items observed before the cutoff, and (a redelivered outcome) those this
            # outcome tombstoned already: deleted_at_ms is in the index, the rest is not.
            FilterExpression=(
                "observed_at_ms < :cutoff "
                "AND (attribute_not_exists(deleted_at_ms) OR deleted_at_ms = :at_ms)"
            ),
            ExpressionAttributeNames={"#shard": "shard"},
            ExpressionAttributeValues={
                ":shard": {"S": shard},
                ":cutoff": {"N": str(cutoff_ms)},
                ":at_ms": {"N": str(finished_ms)},
            },
        )
        for page in pages:
            # A page may hold no candidate at all (all seen recently): the whole index can be
            # read without a chunk filling up, so the group is served per page too.
            self.keep_alive()
            for item in page["Items"]:
                yield _Candidate(
                    item["arn"]["S"], int(item["observed_at_ms"]["N"]), "deleted_at_ms" in item
                )

    def _tombstone(
        self, arn: str, observed_ms: int, outcome: ShardOutcome, from_ms: int
    ) -> Deletion | None:
        finished = outcome.finished_at
        try:
            response = call_dynamodb(
                self.client,
                "update_item",
                TableName=self.table,
                Key={"arn": {"S": arn}},
                UpdateExpression=(
                    "SET deleted_at = :at, deleted_at_ms = :at_ms, absent_since_ms = :from, "
                    "deleted_by_sweep = :sweep, expires_at = :expires"
                ),
                # The index is eventually consistent and another sink may own the partition by
                # now: the item must still hold the very observation selected. The second
                # branch is this same outcome, redelivered: the update rewrites identical values.
                ConditionExpression=(
                    "observed_at_ms = :observed AND (attribute_not_exists(deleted_at_ms) OR "
                    "(deleted_at_ms = :at_ms AND absent_since_ms = :from "
                    "AND deleted_by_sweep = :sweep))"
                ),
                ExpressionAttributeValues={
                    ":at": {"S": finished.isoformat()},
                    ":at_ms": {"N": str(epoch_ms(finished))},
                    ":from": {"N": str(from_ms)},
                    ":observed": {"N": str(observed_ms)},
                    ":sweep": {"S": outcome.sweep_id},
                    ":expires": {"N": str(int((finished + self.ttl).timestamp()))},
                },
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise
        return deletion_of(arn, response.get("Attributes", {}), outcome, finished, "absent")
