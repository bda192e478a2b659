"""DynamoDB tables of the inventory and of sweep progress, written idempotently.

Inventory table (one item per resource):
  key     arn (S)
  GSI     by_shard: shard (S, "account/region/type") + arn, to list or count one shard
  fields  account_id, account_name, region, resource_type, resource_id, name, tags (M),
          attributes (S, canonical JSON; attributes_z (B, zlib) when large), observed_at (S, ISO),
          observed_at_ms (N), sweep_id, shard, expires_at (N, TTL epoch seconds)
  tombstone deleted_at (S), deleted_at_ms (N), absent_since_ms (N), deleted_by_sweep (S):
          set by consumers/sink/deletions.py; a new observation replaces the whole item
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from fleetstream.dynamodb import backoff, call_dynamodb, chunks
from fleetstream.errors import RetryBatchError
from fleetstream.metrics import (
    SINK_DYNAMODB_SECONDS,
    SINK_STALE,
    SINK_UNPROCESSED,
    SINK_WRITES,
)
from fleetstream.models import Observation

log = logging.getLogger(__name__)

ATTRIBUTES_INLINE_LIMIT = 300 * 1024  # leave room under DynamoDB's 400 KB item limit
ATTRIBUTES_HARD_LIMIT = 380 * 1024
_WRITE_ATTEMPTS = 8


def _ms(observation: Observation) -> int:
    return int(observation.observed_at.timestamp() * 1000)


def inventory_item(observation: Observation, ttl: timedelta) -> dict[str, Any]:
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
        "expires_at": {"N": str(int((observation.observed_at + ttl).timestamp()))},
    }
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


class InventoryStore:
    """Writes observations so that an older observation never overwrites a newer one."""

    def __init__(self, client: Any, table: str, ttl: timedelta) -> None:
        self.client = client
        self.table = table
        self.ttl = ttl
        for operation in ("batch_get_item", "batch_write_item"):
            SINK_UNPROCESSED.labels(table, operation)  # zero series from the start

    def write(self, observations: Sequence[Observation]) -> int:
        """Write the newest observation per ARN unless the table holds a newer one; return count."""
        newest: dict[str, Observation] = {}
        for observation in observations:
            held = newest.get(observation.arn)
            if held is None or _ms(observation) >= _ms(held):
                newest[observation.arn] = observation
        # One sink owns an ARN's partition, so read-then-write is not raced by another sink.
        # A tombstone counts as evidence too: nothing observed before the absence comes back.
        stored = self._stored_times(list(newest))
        fresh = [o for o in newest.values() if stored.get(o.arn, -1) <= _ms(o)]
        SINK_STALE.labels(self.table).inc(len(newest) - len(fresh))
        requests = [{"PutRequest": {"Item": inventory_item(o, self.ttl)}} for o in fresh]
        for chunk in chunks(requests, 25):
            self._batch_write(list(chunk))
        SINK_WRITES.labels(self.table).inc(len(fresh))
        return len(fresh)

    def _stored_times(self, arns: list[str]) -> dict[str, int]:
        times: dict[str, int] = {}
        for chunk in chunks(arns, 100):
            pending: dict[str, Any] = {
                self.table: {
                    "Keys": [{"arn": {"S": arn}} for arn in chunk],
                    "ProjectionExpression": "arn, observed_at_ms, absent_since_ms",
                    "ConsistentRead": True,
                }
            }
            for attempt in range(_WRITE_ATTEMPTS):
                response = self._call("batch_get_item", RequestItems=pending)
                for item in response.get("Responses", {}).get(self.table, []):
                    evidence = [
                        int(item[name]["N"])
                        for name in ("observed_at_ms", "absent_since_ms")
                        if name in item
                    ]
                    if evidence:
                        times[item["arn"]["S"]] = max(evidence)
                pending = response.get("UnprocessedKeys") or {}
                unprocessed = sum(len(p["Keys"]) for p in pending.values())
                SINK_UNPROCESSED.labels(self.table, "batch_get_item").inc(unprocessed)
                if not pending:
                    break
                backoff(attempt)
            else:
                raise RetryBatchError("DynamoDB left keys unprocessed after retries", 5.0)
        return times

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {self.table: requests}
        for attempt in range(_WRITE_ATTEMPTS):
            response = self._call("batch_write_item", RequestItems=pending)
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
