"""Outgoing records and dead-letter envelopes."""

from __future__ import annotations

from dataclasses import dataclass, field

from confluent_kafka import Message

Headers = list[tuple[str, str | bytes | None]]


@dataclass(frozen=True, slots=True)
class OutRecord:
    """One record to produce: topic, key, value, headers."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers = field(default_factory=list)


def dead_letter(
    message: Message, dlq_topic: str, group: str, error: BaseException, attempts: int = 1
) -> OutRecord:
    """The original bytes, with headers saying where they came from and why they failed."""
    _kind, timestamp = message.timestamp()
    headers: Headers = [
        ("fs.original.topic", str(message.topic()).encode()),
        ("fs.original.partition", str(message.partition()).encode()),
        ("fs.original.offset", str(message.offset()).encode()),
        ("fs.original.timestamp", str(timestamp).encode()),
        ("fs.consumer.group", group.encode()),
        ("fs.error.class", type(error).__name__.encode()),
        ("fs.error.message", str(error)[:2000].encode("utf-8", "replace")),
        ("fs.attempts", str(attempts).encode()),
    ]
    headers.extend(foreign_headers(message))
    return OutRecord(dlq_topic, message.key(), message.value(), headers)


def header_pairs(message: Message) -> Headers:
    """A message's headers as (name, value) pairs, whichever form the client returned."""
    original = message.headers() or []
    return list(original.items() if isinstance(original, dict) else original)


def foreign_headers(message: Message) -> Headers:
    """The headers fleetstream did not set (its own start with 'fs.')."""
    return [(name, value) for name, value in header_pairs(message) if not name.startswith("fs.")]
