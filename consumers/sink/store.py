"""DynamoDB tables of the inventory and of sweep progress, written idempotently.

Inventory table (one item per resource):
  key     arn (S)
  GSI     by_shard: shard (S, "account/region/type") + arn, to list or count one shard
  fields  account_id, account_name, region, resource_type, resource_id, name, tags (M),
          attributes (S, canonical JSON; attributes_z (B, zlib) when large), observed_at (S, ISO),
          observed_at_ms (N), sweep_id, shard,
          fingerprint (S, sha256 of the attributes without volatile fields),
          emitted_ms (N) + emitted (S, JSON): the observation whose write emitted change/state
          records, and what it emitted, so that a redelivered batch emits it again
  tombstone deleted_at (S), deleted_at_ms (N), absent_since_ms (N), deleted_by_sweep (S),
          expires_at (N, TTL epoch seconds): set by consumers/sink/deletions.py; a new
          observation replaces the whole item. Live items have no TTL: they never expire.

With sink.skip_unchanged, an unchanged observation (same fingerprint and tags, live item,
nothing legacy to clear) is not written at all: its seen mark (consumers/sink/seen.py) is the
evidence deletion needs. The item is written again only once its stored observation is older
than sink.rewrite_unchanged_after_s (spread per ARN over the second half of it), so readers
see observed_at at most that old. Since items then no longer hold the latest observation time,
the stale check also asks the marks: a changed observation of which a later mark of its shard
holds the ARN is stale. skip_unchanged is off by default in this release: every unchanged
observation is written (no change event), so an older sink running after a rollback, whose
deletion compares observed_at with the shard's start, still finds every seen item fresh.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from consumers.sink.changes import (
    Emitted,
    SinkOutput,
    StoredHead,
    Verdict,
    compare,
    judge,
    observation_fingerprint,
    output_for,
    tag_paths,
)
from consumers.sink.seen import SeenMarks, arn_digest
from fleetstream.base.errors import RetryBatchError
from fleetstream.base.metrics import (
    SINK_DYNAMODB_SECONDS,
    SINK_STALE,
    SINK_UNCHANGED,
    SINK_UNPROCESSED,
    SINK_WRITE_UNITS,
    SINK_WRITES,
)
from fleetstream.base.models import Observation
from fleetstream.inventory.dynamodb import backoff, call_dynamodb, chunks
from fleetstream.serde.wire import ChangeType

log = logging.getLogger(__name__)

ATTRIBUTES_INLINE_LIMIT = 300 * 1024  # leave room under DynamoDB's 400 KB item limit
ATTRIBUTES_HARD_LIMIT = 380 * 1024
_WRITE_ATTEMPTS = 8


def _ms(observation: Observation) -> int:
    return int(observation.observed_at.timestamp() * 1000)


def inventory_item(
    observation: Observation,
    *,
    fingerprint: str | None = None,
    emitted: Emitted | None = None,
) -> dict[str, Any]:
    """The DynamoDB item of one observation (low-level attribute values)."""
    item: dict[str, Any] = {
        "arn": {"S": observation.arn},
        "account_id": {"S": observation.account_id},
        "account_name": {"S": observation.account_name},
        "region": {"S": observation.region},
        "resource_type": {"S": observation.resource_type},
        "resource_id": {"S": observation.resource_id},
        "shard": {"S": str(observation.shard)},
        "tags": {"M": {k: {"S": v} for k, v in observation.tags.items()}},
        "observed_at": {"S": observation.observed_at.isoformat()},
        "observed_at_ms": {"N": str(_ms(observation))},
        "sweep_id": {"S": observation.sweep_id},
        "fingerprint": {"S": fingerprint or observation_fingerprint(observation)},
    }
    if emitted is not None:
        item["emitted_ms"] = {"N": str(_ms(observation))}
        item["emitted"] = {"S": emitted.to_json()}
    if observation.name is not None:
        item["name"] = {"S": observation.name}
    raw = observation.attributes_json.encode()
    if len(raw) <= ATTRIBUTES_INLINE_LIMIT:
        item["attributes"] = {"S": observation.attributes_json}
    else:
        packed = zlib.compress(raw, 6)
        if len(packed) <= ATTRIBUTES_HARD_LIMIT:
            item["attributes_z"] = {"B": packed}
        else:
            # Never fail a batch on one giant resource: keep identity and tags, mark the loss.
            item["attributes_truncated"] = {"BOOL": True}
            item["attributes_size"] = {"N": str(len(raw))}
    return item


def _head(item: dict[str, Any]) -> StoredHead:
    def number(name: str) -> int | None:
        return int(item[name]["N"]) if name in item else None

    return StoredHead(
        observed_ms=number("observed_at_ms"),
        absent_since_ms=number("absent_since_ms"),
        deleted="deleted_at_ms" in item,
        fingerprint=item["fingerprint"]["S"] if "fingerprint" in item else None,
        tags={k: v["S"] for k, v in item.get("tags", {}).get("M", {}).items()},
        emitted_ms=number("emitted_ms"),
        # Written before live items lost their TTL, or marked as of a gone account: an
        # unchanged observation still rewrites it once, to clear these.
        legacy="expires_at" in item or "account_status" in item,
    )


@dataclass(frozen=True, slots=True)
class _Detail:
    """The second, larger read: old attributes and what the last emitting write emitted."""

    attributes_json: str | None
    emitted: Emitted | None


def _detail(item: dict[str, Any]) -> _Detail:
    attributes: str | None = None
    if "attributes" in item:
        attributes = item["attributes"]["S"]
    elif "attributes_z" in item:
        attributes = zlib.decompress(item["attributes_z"]["B"]).decode()
    emitted = Emitted.from_json(item["emitted"]["S"]) if "emitted" in item else None
    return _Detail(attributes, emitted)


@dataclass(slots=True)
class Applied:
    """The result of writing one batch of observations."""

    written: int = 0
    outputs: list[SinkOutput] = field(default_factory=list)


# The first read, for every ARN of the batch: small attributes only.
_HEAD_PROJECTION = (
    "arn",
    "observed_at_ms",
    "absent_since_ms",
    "deleted_at_ms",
    "fingerprint",
    "tags",
    "emitted_ms",
    "expires_at",
    "account_status",
)
# The second read, only for ARNs whose fingerprint differs or whose emission is redelivered.
_DETAIL_PROJECTION = ("arn", "attributes", "attributes_z", "emitted")
# Changed paths are kept on the item (for re-emission): bound them well under the item limit.
_MAX_PATHS_CHARS = 8 * 1024


def bounded_paths(paths: tuple[str, ...]) -> tuple[str, ...]:
    """The changed paths, collapsed to their top-level keys when there are very many."""
    if sum(len(p) + 1 for p in paths) <= _MAX_PATHS_CHARS:
        return paths
    tops = tuple(dict.fromkeys(p.split(".", 1)[0].split("[", 1)[0] for p in paths))
    return tops if sum(len(p) + 1 for p in tops) <= _MAX_PATHS_CHARS else ("*",)


class InventoryStore:
    """Writes observations so that an older observation never overwrites a newer one, and
    tells what changed: CREATED / MODIFIED events and the new state of the resource.

    Crash window: the items are written before the loop produces the returned records. A
    sink that dies in between has written an item whose change was never delivered; the
    redelivered batch would see nothing left to change. So each emitting write stores
    `emitted_ms` (the observation) and `emitted` (what it emitted): when a batch holds the
    very observation that last emitted for an ARN, its records are emitted again (same
    change_id). A batch holding a later observation of the ARN emits the re-emission first,
    then the later change, so per-ARN order holds.
    """

    def __init__(
        self,
        client: Any,
        table: str,
        seen: SeenMarks,
        *,
        skip_unchanged: bool = False,
        rewrite_unchanged_after_s: int = 86_400,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.table = table
        self.seen = seen
        self.skip_unchanged = skip_unchanged
        self.rewrite_after_ms = rewrite_unchanged_after_s * 1000
        self._clock = clock
        for operation in ("batch_get_item", "batch_write_item"):
            SINK_UNPROCESSED.labels(table, operation)  # zero series from the start

    def write(self, observations: Sequence[Observation]) -> int:
        """Write the newest observation per ARN unless the table holds a newer one; return count."""
        return self.apply(observations).written

    def apply(self, observations: Sequence[Observation]) -> Applied:
        """Write like write() and return the change and state records to produce."""
        newest: dict[str, Observation] = {}
        seen_ms: dict[str, dict[int, Observation]] = {}
        for observation in observations:
            held = newest.get(observation.arn)
            if held is None or _ms(observation) >= _ms(held):
                newest[observation.arn] = observation
            seen_ms.setdefault(observation.arn, {})[_ms(observation)] = observation
        # The evidence first: once an inventory write of this batch is acknowledged, its marks
        # are stored (a stale or skipped observation was still seen at its time).
        self.seen.record(observations)
        # One sink owns an ARN's partition, so read-then-write is not raced by another sink.
        # A tombstone counts as evidence too: nothing observed before the absence comes back.
        heads = {i["arn"]["S"]: _head(i) for i in self._read(list(newest), _HEAD_PROJECTION)}
        # Observations whose emitting write is in the table but whose records may not be in
        # Kafka: this batch is a redelivery of them.
        redo: dict[str, Observation] = {}
        for arn, head in heads.items():
            if head.emitted_ms is not None and head.emitted_ms in seen_ms[arn]:
                redo[arn] = seen_ms[arn][head.emitted_ms]
        fresh = [o for o in newest.values() if arn_evidence(heads, o.arn) <= _ms(o)]
        fingerprints = {o.arn: observation_fingerprint(o) for o in fresh}
        verdicts = {o.arn: judge(heads.get(o.arn), o, fingerprints[o.arn]) for o in fresh}
        fresh = self._not_seen_later(fresh, verdicts)
        SINK_STALE.labels(self.table).inc(len(newest) - len(fresh))
        now_ms = int(self._clock() * 1000)
        unchanged = {
            o.arn
            for o in fresh
            if self.skip_unchanged
            and verdicts[o.arn] is Verdict.UNCHANGED
            and not self._rewrite_due(o.arn, heads[o.arn], now_ms)
        }
        SINK_UNCHANGED.labels(self.table).inc(len(unchanged))
        # Old attributes only where the fingerprint differs: a second, targeted read.
        wanted = [arn for arn, v in verdicts.items() if v is Verdict.COMPARE] + [
            arn for arn in redo if verdicts.get(arn) is not Verdict.COMPARE
        ]
        details = {i["arn"]["S"]: _detail(i) for i in self._read(wanted, _DETAIL_PROJECTION)}

        applied = Applied()
        for arn, observation in redo.items():
            again = details[arn].emitted if arn in details else None
            if again is not None:
                applied.outputs.append(
                    output_for(observation, observation_fingerprint(observation), again)
                )
        requests: list[dict[str, Any]] = []
        for observation in fresh:
            arn = observation.arn
            if arn in unchanged:
                continue
            fp = fingerprints[arn]
            emitted = self._emitted(
                verdicts[arn], heads.get(arn), observation, fp, details.get(arn)
            )
            if emitted is not None:
                applied.outputs.append(output_for(observation, fp, emitted))
            elif arn in redo and _ms(redo[arn]) == _ms(observation) and arn in details:
                # The same observation again: keep what its first write emitted on the item.
                emitted = details[arn].emitted
            item = inventory_item(observation, fingerprint=fp, emitted=emitted)
            requests.append({"PutRequest": {"Item": item}})
        for chunk in chunks(requests, 25):
            self._batch_write(list(chunk))
        SINK_WRITES.labels(self.table).inc(len(requests))
        applied.written = len(requests)
        return applied

    def _rewrite_due(self, arn: str, head: StoredHead, now_ms: int) -> bool:
        """An unchanged item is written anyway when it holds something to clear, or once its
        observation is older than the rewrite age, which is spread per ARN over the second
        half of sink.rewrite_unchanged_after_s so that refreshes do not all land at once."""
        if head.legacy or head.observed_ms is None:
            return True
        half = self.rewrite_after_ms // 2
        spread = int.from_bytes(arn_digest(arn)) % max(1, half)
        return now_ms - head.observed_ms > half + spread

    def _not_seen_later(
        self, fresh: list[Observation], verdicts: dict[str, Verdict]
    ) -> list[Observation]:
        """Drop changed observations that a later mark of their shard holds: the item may not
        hold that later observation (an unchanged one is not written), the mark does."""
        changed: dict[str, list[Observation]] = {}
        for o in fresh:
            if verdicts[o.arn] in {Verdict.COMPARE, Verdict.TAGS_CHANGED}:
                changed.setdefault(str(o.shard), []).append(o)
        stale: set[str] = set()
        for shard, observations in changed.items():
            digests = {arn_digest(o.arn): o for o in observations}
            oldest = min(_ms(o) for o in observations)
            for digest, seen_ms in self.seen.last_seen(shard, list(digests), oldest).items():
                if seen_ms > _ms(digests[digest]):
                    stale.add(digests[digest].arn)
        return [o for o in fresh if o.arn not in stale]

    @staticmethod
    def _emitted(
        verdict: Verdict,
        head: StoredHead | None,
        observation: Observation,
        fp: str,
        detail: _Detail | None,
    ) -> Emitted | None:
        if verdict is Verdict.CREATED:
            return Emitted(ChangeType.CREATED)
        if verdict is Verdict.UNCHANGED or head is None:
            return None
        if verdict is Verdict.TAGS_CHANGED:
            paths = tuple(tag_paths(head.tags, observation.tags))
            return Emitted(ChangeType.MODIFIED, paths, head.fingerprint, head.observed_ms)
        found = compare(head, observation, fp, detail.attributes_json if detail else None)
        if found is None or found.change_type is None:
            return found
        return Emitted(
            found.change_type,
            bounded_paths(found.changed_paths),
            found.old_fingerprint,
            found.previous_observed_ms,
        )

    def _read(self, arns: Sequence[str], projection: Iterable[str]) -> list[dict[str, Any]]:
        """Consistent BatchGetItem of some attributes of these ARNs' items (those that exist)."""
        names = {f"#a{n}": name for n, name in enumerate(projection)}
        found: list[dict[str, Any]] = []
        for chunk in chunks(arns, 100):
            pending: dict[str, Any] = {
                self.table: {
                    "Keys": [{"arn": {"S": arn}} for arn in chunk],
                    "ProjectionExpression": ", ".join(names),
                    "ExpressionAttributeNames": names,
                    "ConsistentRead": True,
                }
            }
            for attempt in range(_WRITE_ATTEMPTS):
                response = self._call("batch_get_item", RequestItems=pending)
                found.extend(response.get("Responses", {}).get(self.table, []))
                pending = response.get("UnprocessedKeys") or {}
                unprocessed = sum(len(p["Keys"]) for p in pending.values())
                SINK_UNPROCESSED.labels(self.table, "batch_get_item").inc(unprocessed)
                if not pending:
                    break
                backoff(attempt)
            else:
                raise RetryBatchError("DynamoDB left keys unprocessed after retries", 5.0)
        return found

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {self.table: requests}
        for attempt in range(_WRITE_ATTEMPTS):
            response = self._call(
                "batch_write_item", RequestItems=pending, ReturnConsumedCapacity="TOTAL"
            )
            for used in response.get("ConsumedCapacity") or []:
                SINK_WRITE_UNITS.labels(self.table).inc(used.get("CapacityUnits", 0))
            pending = response.get("UnprocessedItems") or {}
            unprocessed = sum(len(requests) for requests in pending.values())
            SINK_UNPROCESSED.labels(self.table, "batch_write_item").inc(unprocessed)
            if not pending:
                return
            backoff(attempt)
        raise RetryBatchError("DynamoDB left items unprocessed after retries", 5.0)

    def _call(self, operation: str, **kwargs: Any) -> Any:
        with SINK_DYNAMODB_SECONDS.labels(self.table, operation).time():
            return call_dynamodb(self.client, operation, **kwargs)


def arn_evidence(heads: dict[str, StoredHead], arn: str) -> int:
    """The stored evidence time of an ARN, -1 when there is no item."""
    head = heads.get(arn)
    return -1 if head is None else head.evidence_ms
