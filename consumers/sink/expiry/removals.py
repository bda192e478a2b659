"""Pure: which records of the inventory table's DynamoDB Stream are removals to announce.

A removal is a record that holds the item's old image and no new one. It becomes a DELETED
change (and a state tombstone) unless the old image is one of fleetstream's own tombstones:
that resource's DELETED change went out when the tombstone was written, and the tombstone's
TTL expiry only ends its keeping.

The reason says who removed it:
  expired  DynamoDB's TTL sweeper: in AWS the record's userIdentity is the service principal
           dynamodb.amazonaws.com; DynamoDB Local (3.1) does not set userIdentity and names
           its TTL removals with an event name other than REMOVE.
  removed  anything else (a DeleteItem by a person, a script, another program).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from consumers.sink.changes import Deletion

TTL_PRINCIPAL = "dynamodb.amazonaws.com"
EXPIRED = "expired"
REMOVED = "removed"


def is_removal(record: Mapping[str, Any]) -> bool:
    """The record removes an item: an old image and no new one (REMOVE, or a TTL removal)."""
    data = record.get("dynamodb", {})
    return record.get("eventName") not in {"INSERT", "MODIFY"} and "NewImage" not in data


def is_own_tombstone(image: Mapping[str, Any]) -> bool:
    """The removed item was a tombstone fleetstream wrote (its DELETED change is out)."""
    return "deleted_at_ms" in image


def reason_of(record: Mapping[str, Any]) -> str:
    """expired (DynamoDB's TTL sweeper) or removed (anything else)."""
    identity = record.get("userIdentity") or {}
    if identity.get("principalId") == TTL_PRINCIPAL and identity.get("type") == "Service":
        return EXPIRED
    if record.get("eventName") != "REMOVE":  # DynamoDB Local's TTL removals
        return EXPIRED
    return REMOVED


def removed_at(record: Mapping[str, Any]) -> datetime:
    """When the stream saw the removal (the same for a record read twice)."""
    at = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    if isinstance(at, datetime):
        return at if at.tzinfo else at.replace(tzinfo=UTC)
    if isinstance(at, int | float):
        return datetime.fromtimestamp(at, UTC)
    raise ValueError(f"stream record without ApproximateCreationDateTime: {record!r}")


def deletion_of(record: Mapping[str, Any]) -> Deletion | None:
    """The DELETED change a removal record stands for; None for any other record, and for a
    removal without an old image (a stream that does not carry old images: refused at start)."""
    if not is_removal(record):
        return None
    image: Mapping[str, Any] | None = record.get("dynamodb", {}).get("OldImage")
    if image is None or is_own_tombstone(image):
        return None

    def text(name: str) -> str | None:
        value = image.get(name)
        return str(value["S"]) if isinstance(value, Mapping) and "S" in value else None

    arn = text("arn")
    if arn is None:
        return None
    observed = image.get("observed_at_ms")
    return Deletion(
        arn=arn,
        account_id=text("account_id") or "",
        account_name=text("account_name") or "",
        region=text("region") or "",
        resource_type=text("resource_type") or "",
        resource_id=text("resource_id") or arn,
        name=text("name"),
        sweep_id=text("sweep_id") or "",
        deleted_at=removed_at(record),
        old_fingerprint=text("fingerprint"),
        previous_observed_ms=int(observed["N"]) if isinstance(observed, Mapping) else None,
        reason=reason_of(record),
    )
