"""Conversions between the typed models and the Avro records of schemas/.

An encoder is given the declared topic its bytes go to (kafka/topics.py): with a schema
registry, each topic has its own subject and so its own codec. A decoder needs no topic: the
framing names the writer's schema (fingerprint or registry id).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from fleetstream.base.errors import PoisonMessageError
from fleetstream.base.models import Observation, ResourceEvent, ShardOutcome, ShardStatus, WorkItem
from fleetstream.kafka import topics
from fleetstream.kafka.topics import Topic
from fleetstream.serde.avro import codec, topic_codec

_NAMESPACE = "dev.fleetstream.v1."


def encode_work_item(item: WorkItem, *, topic: Topic = topics.WORK) -> bytes:
    """WorkItem -> framed Avro bytes for `topic` (work, work-retry or refresh)."""
    return topic_codec(topic).encode(
        {
            "sweep_id": item.sweep_id,
            "account_id": item.account_id,
            "account_name": item.account_name,
            "region": item.region,
            "resource_type": item.resource_type,
            "page_token": item.page_token_json(),
            "page_number": item.page_number,
            "resources_so_far": item.resources_so_far,
            "shard_started_at": item.shard_started_at,
            "issued_at": item.issued_at,
            "attempt": item.attempt,
            "not_before": item.not_before,
            "last_error": item.last_error,
            "resource_ids": None if item.resource_ids is None else list(item.resource_ids),
            "triggered_at": item.triggered_at,
            "described_from": item.described_from,
        }
    )


def decode_work_item(data: bytes | None) -> WorkItem:
    """Framed Avro bytes -> WorkItem; PoisonMessageError when it cannot be one."""
    record = codec("work_item").decode(data)
    token = record["page_token"]
    try:
        page_token = None if token is None else json.loads(token)
    except ValueError as exc:
        raise PoisonMessageError(f"page_token is not JSON: {token[:80]!r}") from exc
    if page_token is not None and not isinstance(page_token, dict):
        raise PoisonMessageError("page_token must be a JSON object")
    return _work_item(record, page_token)


def decode_work_item_shard(data: bytes | None) -> WorkItem:
    """Framed Avro bytes -> WorkItem without its page token (never parsed, so a bad one does
    not matter): enough to end the shard of a page that went to the DLQ.
    PoisonMessageError when the bytes are not a work item at all."""
    return _work_item(codec("work_item").decode(data), None)


def _work_item(record: dict[str, Any], page_token: Mapping[str, object] | None) -> WorkItem:
    return WorkItem(
        sweep_id=record["sweep_id"],
        account_id=record["account_id"],
        account_name=record["account_name"],
        region=record["region"],
        resource_type=record["resource_type"],
        page_token=page_token,
        page_number=record["page_number"],
        resources_so_far=record["resources_so_far"],
        shard_started_at=record["shard_started_at"],
        issued_at=record["issued_at"],
        attempt=record["attempt"],
        not_before=record["not_before"],
        last_error=record["last_error"],
        resource_ids=None if record["resource_ids"] is None else tuple(record["resource_ids"]),
        triggered_at=record["triggered_at"],
        # Null in items written before work_item v4 (schema resolution fills the default).
        described_from=record["described_from"],
    )


def encode_resource_event(event: ResourceEvent, *, topic: Topic = topics.RESOURCES) -> bytes:
    """Observation or ShardOutcome -> framed Avro bytes for `topic` (resources or
    plan-outcomes)."""
    body: tuple[str, dict[str, Any]]
    if isinstance(event, Observation):
        body = (
            _NAMESPACE + "Observation",
            {
                "arn": event.arn,
                "account_id": event.account_id,
                "account_name": event.account_name,
                "region": event.region,
                "resource_type": event.resource_type,
                "resource_id": event.resource_id,
                "name": event.name,
                "tags": dict(event.tags),
                "attributes_json": event.attributes_json,
                "observed_at": event.observed_at,
                "sweep_id": event.sweep_id,
            },
        )
    else:
        body = (
            _NAMESPACE + "ShardOutcome",
            {
                "sweep_id": event.sweep_id,
                "account_id": event.account_id,
                "account_name": event.account_name,
                "region": event.region,
                "resource_type": event.resource_type,
                "status": event.status.value,
                "resource_count": event.resource_count,
                "pages": event.pages,
                "error_code": event.error_code,
                "reason": event.reason,
                "shard_started_at": event.shard_started_at,
                "finished_at": event.finished_at,
                "described_from": event.described_from,
            },
        )
    return topic_codec(topic).encode({"body": body})


def decode_resource_event(data: bytes | None) -> ResourceEvent:
    """Framed Avro bytes -> Observation or ShardOutcome."""
    name, fields = codec("resource_event").decode(data)["body"]
    if name == _NAMESPACE + "Observation":
        return Observation(**fields)
    if name == _NAMESPACE + "ShardOutcome":
        return ShardOutcome(**{**fields, "status": ShardStatus(fields["status"])})
    raise PoisonMessageError(f"unexpected resource event branch {name}")


# Kafka's default max.message.bytes is 1 MB (MSK's too); stay clear of it with headers.
MAX_RECORD_BYTES = 900_000


def encode_observation_within(
    observation: Observation, limit: int, *, topic: Topic = topics.RESOURCES
) -> bytes:
    """Encode an observation; one too large for Kafka keeps its identity and tags and has its
    attributes replaced by a marker with their size and hash, instead of failing the page."""
    data = encode_resource_event(observation, topic=topic)
    if len(data) <= limit:
        return data
    raw = observation.attributes_json.encode()
    marker = {
        "fleetstream:truncated": True,
        "original_bytes": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    trimmed = replace(observation, attributes_json=json.dumps(marker, sort_keys=True))
    return encode_resource_event(trimmed, topic=topic)


# --- change events and the compacted state topic (written by the sink) ---------------------
# These models live here, next to their codec, until they move to fleetstream/base/models.py.


class ChangeType(StrEnum):
    """What happened to a resource between two observations."""

    CREATED = "CREATED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One change of one resource, as the sink applied it to the inventory."""

    change_id: str
    change_type: ChangeType
    arn: str
    account_id: str
    region: str
    resource_type: str
    resource_id: str
    sweep_id: str
    observed_at: datetime
    account_name: str = ""
    name: str | None = None
    previous_observed_at: datetime | None = None
    changed_paths: tuple[str, ...] = ()
    old_fingerprint: str | None = None
    new_fingerprint: str | None = None
    tags: Mapping[str, str] | None = None
    attributes_json: str | None = None
    # DELETED only: absent, expired, removed, stale or account_gone (change_event.v2).
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ResourceState:
    """The value of the state topic: a live resource's observation and its fingerprint."""

    observation: Observation
    fingerprint: str


def encode_change_event(
    event: ChangeEvent, limit: int = MAX_RECORD_BYTES, *, topic: Topic = topics.CHANGES
) -> bytes:
    """ChangeEvent -> framed Avro bytes; over the limit, attributes_json is left out."""
    record = {
        "change_id": event.change_id,
        "change_type": event.change_type.value,
        "arn": event.arn,
        "account_id": event.account_id,
        "account_name": event.account_name,
        "region": event.region,
        "resource_type": event.resource_type,
        "resource_id": event.resource_id,
        "name": event.name,
        "sweep_id": event.sweep_id,
        "observed_at": event.observed_at,
        "previous_observed_at": event.previous_observed_at,
        "changed_paths": list(event.changed_paths),
        "old_fingerprint": event.old_fingerprint,
        "new_fingerprint": event.new_fingerprint,
        "tags": None if event.tags is None else dict(event.tags),
        "attributes_json": event.attributes_json,
        "reason": event.reason,
    }
    data = topic_codec(topic).encode(record)
    if len(data) > limit:
        data = topic_codec(topic).encode({**record, "attributes_json": None})
    return data


def decode_change_event(data: bytes | None) -> ChangeEvent:
    """Framed Avro bytes -> ChangeEvent."""
    record = codec("change_event").decode(data)
    return ChangeEvent(
        **{
            **record,
            "change_type": ChangeType(record["change_type"]),
            "changed_paths": tuple(record["changed_paths"]),
        }
    )


def encode_resource_state(state: ResourceState, *, topic: Topic = topics.STATE) -> bytes:
    """ResourceState -> framed Avro bytes (attributes already fit: they came through Kafka)."""
    observation = state.observation
    return topic_codec(topic).encode(
        {
            "arn": observation.arn,
            "account_id": observation.account_id,
            "account_name": observation.account_name,
            "region": observation.region,
            "resource_type": observation.resource_type,
            "resource_id": observation.resource_id,
            "name": observation.name,
            "tags": dict(observation.tags),
            "attributes_json": observation.attributes_json,
            "observed_at": observation.observed_at,
            "sweep_id": observation.sweep_id,
            "fingerprint": state.fingerprint,
        }
    )


def decode_resource_state(data: bytes | None) -> ResourceState:
    """Framed Avro bytes -> ResourceState (a null value is a deletion: do not decode it)."""
    fields = codec("resource_state").decode(data)
    fingerprint = fields.pop("fingerprint")
    return ResourceState(Observation(**fields), fingerprint)
