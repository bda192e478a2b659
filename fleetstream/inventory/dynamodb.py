"""DynamoDB helpers shared by the sink, the planner and the CLI: tables, calls, chunking."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from fleetstream.aws.errors import THROTTLING_CODES, error_code
from fleetstream.base.errors import RetryBatchError

log = logging.getLogger(__name__)

SHARD_INDEX = "by_shard"
ACCOUNT_INDEX = "by_account"
SWEEP_INDEX = "by_sweep"  # local index of the seen-marks table: one shard's marks of a sweep


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    """Consecutive slices of at most size items (DynamoDB batch limits)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


# A table with a local index holds at most 10 GB per partition key (its item collection).
# The seen-marks table's by_sweep index makes one shard's marks such a collection; README
# "Seen marks: collection size" gives the bound. Over it, writes of that shard's marks fail
# until TTL removes old marks: waiting long beats dead-lettering the observations (their
# marks are deletion evidence) or crashing in a loop.
COLLECTION_FULL_RETRY_S = 300.0


def call_dynamodb(client: Any, operation: str, **kwargs: Any) -> Any:
    """Call DynamoDB; unavailability and throttling become RetryBatchError (pause, redo)."""
    with dynamodb_errors(operation, kwargs):
        return getattr(client, operation)(**kwargs)


def paginate_dynamodb(client: Any, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """The pages of a paginated DynamoDB read (query, scan), read lazily, with the errors of
    call_dynamodb: a paginator calls the client itself, so a page fetch that meets throttling
    or a closed connection would otherwise escape the batch's retry and end the process."""
    pages = client.get_paginator(operation).paginate(**kwargs)
    with dynamodb_errors(operation, kwargs):
        # Only the page fetches run in here: the caller's own code between pages never does.
        yield from pages


@contextmanager
def dynamodb_errors(operation: str, kwargs: Mapping[str, Any]) -> Iterator[None]:
    """Within: DynamoDB unavailability and throttling become RetryBatchError (pause, redo)."""
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code == "ItemCollectionSizeLimitExceededException":
            log.error(  # noqa: TRY400 (the traceback adds nothing; the retry says the rest)
                "DynamoDB %s on %s: an item collection is over 10 GB; lower "
                "sink.seen_retention_s (README: Seen marks, collection size)",
                operation,
                kwargs.get("TableName") or sorted(kwargs.get("RequestItems", {})),
            )
            raise RetryBatchError(f"DynamoDB {operation}: {code}", COLLECTION_FULL_RETRY_S) from exc
        if code in THROTTLING_CODES or status >= 500 or code == "ResourceNotFoundException":
            raise RetryBatchError(f"DynamoDB {operation}: {code}", 5.0) from exc
        raise
    except BotoCoreError as exc:
        raise RetryBatchError(f"DynamoDB {operation}: {exc}", 5.0) from exc


def backoff(attempt: int) -> None:
    """Sleep before retry number attempt."""
    # Full jitter, capped: UnprocessedItems means the table is hot right now.
    time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))


class Tables:
    """Creates the inventory, sweeps and seen-marks tables when missing."""

    def __init__(self, client: Any, inventory: str, sweeps: str, seen: str | None = None) -> None:
        self.client = client
        self.inventory = inventory
        self.sweeps = sweeps
        self.seen = seen or f"{inventory}-seen"

    def ensure(self) -> None:
        """Create the tables (on-demand, TTL on expires_at) that do not exist."""
        existing = set(self.client.list_tables()["TableNames"])
        if self.inventory not in existing:
            create_table(
                self.client,
                self.inventory,
                keys=[("arn", "HASH")],
                attributes={"arn": "S", "shard": "S", "account_id": "S", "resource_type": "S"},
                indexes=[
                    {
                        "IndexName": SHARD_INDEX,
                        "KeySchema": _keys([("shard", "HASH"), ("arn", "RANGE")]),
                        "Projection": {
                            "ProjectionType": "INCLUDE",
                            "NonKeyAttributes": [
                                "sweep_id",
                                "observed_at_ms",
                                "resource_id",
                                "deleted_at_ms",
                            ],
                        },
                    },
                    {
                        "IndexName": ACCOUNT_INDEX,
                        "KeySchema": _keys([("account_id", "HASH"), ("resource_type", "RANGE")]),
                        "Projection": {"ProjectionType": "KEYS_ONLY"},
                    },
                ],
                # Every removal (TTL expiry, any DeleteItem) is read back by `fleetstream
                # expiry` from this stream, with the item's old image.
                stream={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            )
        if self.sweeps not in existing:
            create_table(
                self.client,
                self.sweeps,
                keys=[("sweep_id", "HASH"), ("shard", "RANGE")],
                attributes={"sweep_id": "S", "shard": "S"},
            )
        if self.seen not in existing:
            # One item per (shard, observation time, sweep, part): the ARN digests seen then.
            create_table(
                self.client,
                self.seen,
                keys=[("shard", "HASH"), ("mark", "RANGE")],
                attributes={"shard": "S", "mark": "S", "sweep_id": "S"},
                local_indexes=[
                    {
                        "IndexName": SWEEP_INDEX,
                        "KeySchema": _keys([("shard", "HASH"), ("sweep_id", "RANGE")]),
                        "Projection": {
                            "ProjectionType": "INCLUDE",
                            "NonKeyAttributes": ["observed_ms", "arns"],
                        },
                    }
                ],
            )


def create_table(
    client: Any,
    name: str,
    keys: list[tuple[str, str]],
    attributes: dict[str, str],
    indexes: list[dict[str, Any]] | None = None,
    local_indexes: list[dict[str, Any]] | None = None,
    stream: dict[str, Any] | None = None,
) -> None:
    """Create an on-demand table with TTL on expires_at; wait until it exists (idempotent)."""
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": _keys(keys),
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": t} for a, t in attributes.items()
        ],
    }
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    if local_indexes:
        request["LocalSecondaryIndexes"] = local_indexes
    if stream:
        request["StreamSpecification"] = stream
    try:
        client.create_table(**request)
    except ClientError as exc:
        if error_code(exc) != "ResourceInUseException":  # created concurrently
            raise
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    try:
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )
    except ClientError as exc:
        # Another process creating the same table at the same moment enabled it first.
        if "already enabled" not in str(exc):
            raise
    log.info("created table %s", name)


def _keys(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"AttributeName": name, "KeyType": kind} for name, kind in pairs]
