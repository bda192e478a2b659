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
    original = message.headers() or []
    pairs = original.items() if isinstance(original, dict) else original
    headers.extend((name, value) for name, value in pairs if not name.startswith("fs."))
    return OutRecord(dlq_topic, message.key(), message.value(), headers)
