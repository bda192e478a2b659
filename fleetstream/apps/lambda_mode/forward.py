"""The hub bus's target: one EventBridge event onto the events topic (for the event router).

EventBridge cannot deliver to MSK itself, so a small function does: it produces the event's
JSON exactly as EventBridge delivered it, keyed account/region (the router reads an
account-region's events in order), and fails the invocation when Kafka did not take it, so
EventBridge's retry policy and dead-letter queue apply instead of a silent loss.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from fleetstream.base.config import Settings
from fleetstream.base.errors import FleetstreamError
from fleetstream.kafka import topics

FLUSH_TIMEOUT_S = 10.0


def forward(settings: Settings, producer: Producer, event: Mapping[str, Any]) -> str:
    """Produce one event to the events topic; return its key. Raises FleetstreamError when the
    record was not acknowledged."""
    key = f"{event.get('account', '')}/{event.get('region', '')}"
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            failures.append(error)

    producer.produce(
        topics.EVENTS.kafka_name(settings.kafka),
        key=key.encode(),
        value=json.dumps(event, separators=(",", ":")).encode(),
        on_delivery=delivered,
    )
    remaining = producer.flush(FLUSH_TIMEOUT_S)
    if remaining or failures:
        reason = failures[0] if failures else f"not acknowledged in {FLUSH_TIMEOUT_S:g}s"
        raise FleetstreamError(f"event {event.get('id', '?')} not forwarded: {reason}")
    return key
