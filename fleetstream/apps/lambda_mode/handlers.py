"""The Lambda functions' entry points (the image's or package's handler setting):

    fleetstream.apps.lambda_mode.handlers.describer   behind ESMs on work, work-retry and refresh
    fleetstream.apps.lambda_mode.handlers.sink        behind an ESM on the resources topic
    fleetstream.apps.lambda_mode.handlers.forward_event  target of the hub event bus's rule

Configuration is the same as for the long-running processes: FLEETSTREAM_* environment
variables, or a file named by FLEETSTREAM_CONFIG. Clients are built on the first invocation
and reused by the warm container.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from confluent_kafka import Producer

from fleetstream.apps.lambda_mode.driver import DescriberBatch, SinkBatch
from fleetstream.apps.lambda_mode.forward import forward
from fleetstream.base.config import Settings, load_settings
from fleetstream.base.logs import configure
from fleetstream.kafka import clients as kafka
from fleetstream.kafka import topics
from fleetstream.serde.registry import configure as configure_serde


class LambdaContext(Protocol):
    """The part of Lambda's context object the handlers use."""

    def get_remaining_time_in_millis(self) -> int: ...


@cache
def _settings() -> Settings:
    configure(os.environ.get("FLEETSTREAM_LOG_LEVEL", "INFO"))
    config = os.environ.get("FLEETSTREAM_CONFIG")
    settings = load_settings(Path(config) if config else None)
    # The registry's framing, when one is configured (as every long-running command does).
    configure_serde(settings.serde, settings.kafka)
    return settings


def _producer(settings: Settings) -> Producer:
    # Idempotent (acks=all, enable.idempotence): a retried send never duplicates a record.
    return kafka.make_producer(settings.kafka)


@cache
def _describer_batch() -> DescriberBatch:
    # Imported here: only the describer needs it.
    from consumers.describer.main import make_dead_letter_follow_up, make_handler  # noqa: PLC0415

    settings = _settings()
    return DescriberBatch(
        make_handler(settings),
        _producer(settings),
        group=settings.describer.group_id,
        dlq_topic=topics.DLQ.kafka_name(settings.kafka),
        concurrency=settings.describer.concurrency,
        dead_letter_follow_up=make_dead_letter_follow_up(settings),
    )


@cache
def _sink_batch() -> SinkBatch:
    from consumers.sink.main import make_writer  # noqa: PLC0415  (only the sink needs it)

    settings = _settings()
    return SinkBatch(make_writer(settings), _producer(settings))


def describer(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Describe the pages of an MSK event; partial batch response for the ESM."""
    return _describer_batch()(event, context.get_remaining_time_in_millis)


def sink(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Write an MSK event's resource events to DynamoDB; partial batch response for the ESM."""
    return _sink_batch()(event, context.get_remaining_time_in_millis)


@cache
def _events_producer() -> Producer:
    return _producer(_settings())


def forward_event(event: dict[str, Any], _context: LambdaContext) -> dict[str, Any]:
    """Put one EventBridge event on the events topic (raises, so EventBridge retries)."""
    key = forward(_settings(), _events_producer(), event)
    return {"forwarded": key}
