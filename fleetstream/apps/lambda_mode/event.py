"""AWS's Kafka event (MSK and self-managed Kafka event source mappings) <-> Messages.

The event groups records by "<topic>-<partition>"; each record carries its topic, partition,
offset, timestamp, base64 key and value (either may be absent) and its headers as a list of
one-entry objects {name: [byte values]}. Records become real confluent_kafka Messages, so the
handlers, the dead-letter envelope and the loops' helpers take them unchanged.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from confluent_kafka import TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, Message

from fleetstream.runtime.records import Headers, header_pairs

_TIMESTAMP_TYPES = {
    "CREATE_TIME": TIMESTAMP_CREATE_TIME,
    "LOG_APPEND_TIME": TIMESTAMP_LOG_APPEND_TIME,
}


def _bytes(encoded: str | None) -> bytes | None:
    if encoded is None:
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        # Never sent by AWS; kept as the raw text, which the handler then rejects as poison
        # (to the DLQ) instead of failing the whole batch.
        return encoded.encode()


def _headers(raw: Iterable[Mapping[str, Sequence[int]]] | None) -> Headers:
    # Byte values may arrive signed (Java's byte): & 0xFF maps both forms to 0..255.
    return [
        (name, bytes(value & 0xFF for value in values))
        for header in raw or ()
        for name, values in header.items()
    ]


def to_message(record: Mapping[str, Any]) -> Message:
    """One record of the event as a consumed Message."""
    timestamp_type = _TIMESTAMP_TYPES.get(record.get("timestampType", ""), TIMESTAMP_CREATE_TIME)
    return Message(
        topic=record["topic"],
        partition=int(record["partition"]),
        offset=int(record["offset"]),
        key=_bytes(record.get("key")),
        value=_bytes(record.get("value")),
        headers=_headers(record.get("headers")),
        timestamp=(timestamp_type, int(record.get("timestamp", 0))),
    )


def messages(event: Mapping[str, Any]) -> list[Message]:
    """Every record of an event, in offset order within each partition."""
    decoded = [to_message(r) for batch in event.get("records", {}).values() for r in batch]
    return sorted(decoded, key=lambda m: (m.topic(), m.partition(), m.offset()))


def partition_key(message: Message) -> str:
    """The "<topic>-<partition>" key the event groups records by."""
    return f"{message.topic()}-{message.partition()}"


def item_identifier(message: Message) -> dict[str, Any]:
    """How a partial batch response names a failed Kafka record.

    The composite form (the event's topic-partition key and the offset) that AWS Lambda
    Powertools reports for Kafka event sources; the one place to change if AWS's format moves.
    """
    return {"partition": partition_key(message), "offset": message.offset()}


def batch_response(failed: Iterable[Message]) -> dict[str, Any]:
    """The partial batch response: Lambda retries each named partition from that record on."""
    return {"batchItemFailures": [{"itemIdentifier": item_identifier(m)} for m in failed]}


def to_event(
    records: Iterable[Mapping[str, Any]], event_source_arn: str = "", bootstrap: str = ""
) -> dict[str, Any]:
    """Build an event in AWS's format from record dicts (tests, local invocation)."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        grouped.setdefault(f"{record['topic']}-{record['partition']}", []).append(record)
    return {
        "eventSource": "aws:kafka",
        "eventSourceArn": event_source_arn,
        "bootstrapServers": bootstrap,
        "records": grouped,
    }


def event_record(message: Message) -> dict[str, Any]:
    """A consumed Message in the event's record format (base64 key/value, byte-list headers)."""
    kind, timestamp = message.timestamp()
    record: dict[str, Any] = {
        "topic": message.topic(),
        "partition": message.partition(),
        "offset": message.offset(),
        "timestamp": timestamp,
        "timestampType": "LOG_APPEND_TIME" if kind == TIMESTAMP_LOG_APPEND_TIME else "CREATE_TIME",
        "headers": [
            {name: list(value if isinstance(value, bytes) else (value or "").encode())}
            for name, value in header_pairs(message)
        ],
    }
    for field, data in (("key", message.key()), ("value", message.value())):
        if data is not None:
            record[field] = base64.b64encode(data).decode()
    return record
