"""Wires the describer consumer group: work topic -> AWS -> resources + next page."""

from __future__ import annotations

import logging

from confluent_kafka import Message

from consumers.describer.handler import Describer, DescribeResult, dead_lettered_outcome
from fleetstream.aws.clients import AwsClients
from fleetstream.base.config import DescriberSettings, Settings
from fleetstream.base.errors import ConfigError, PoisonMessageError
from fleetstream.base.metrics import PAGES, RESOURCES
from fleetstream.base.models import WorkItem, utc_now
from fleetstream.base.retry import RetryPolicy
from fleetstream.catalog import entries_for
from fleetstream.kafka import topics
from fleetstream.kafka.auth import resolve_secret
from fleetstream.runtime.loop import (
    NOT_BEFORE_HEADER,
    TRIGGERED_AT_HEADER,
    DeadLetterFollowUp,
    Handler,
    TransactionalLoop,
    epoch_ms_header,
    run_group,
    transactional_group,
)
from fleetstream.runtime.records import OutRecord
from fleetstream.serde.wire import (
    MAX_RECORD_BYTES,
    decode_work_item,
    decode_work_item_shard,
    encode_observation_within,
    encode_resource_event,
    encode_work_item,
)

log = logging.getLogger(__name__)
# Short keys are guessable, which is what keying the fingerprints is meant to prevent.
MIN_REDACTION_KEY_BYTES = 16


def make_handler(settings: Settings, clients: AwsClients | None = None) -> Handler:
    """The describer's message handler, shared by the consumer loop and the Lambda handler:
    one work item in, its observations, next page, retry or outcome records out."""
    catalog = {entry.type_name: entry for entry in entries_for(settings.resource_types)}
    describer = Describer(
        clients or AwsClients(settings.aws),
        catalog,
        page_size=settings.describer.page_size,
        role_arn_of=settings.aws.member_role_arn,
        redaction_key=redaction_key(settings.describer),
        retry=RetryPolicy(
            max_attempts=settings.describer.retry_max_attempts,
            base_s=settings.describer.retry_base_s,
            max_backoff_s=settings.describer.retry_max_backoff_s,
            shard_deadline_s=settings.describer.shard_deadline_s,
        ),
    )
    retry_topic = topics.WORK_RETRY.kafka_name(settings.kafka)
    resources_topic = topics.RESOURCES.kafka_name(settings.kafka)

    def handle(message: Message) -> list[OutRecord]:
        item = decode_work_item(message.value())
        result = describer.handle(item)
        shard_key = str(item.shard).encode()
        work_key = item.budget_key.encode()
        # An observation a refresh made carries the event time, for the freshness histogram.
        trigger = (
            []
            if item.triggered_at is None
            else [(TRIGGERED_AT_HEADER, epoch_ms_header(item.triggered_at))]
        )
        records = [
            OutRecord(
                resources_topic,
                shard_key,
                encode_observation_within(o, MAX_RECORD_BYTES, topic=topics.RESOURCES),
                list(trigger),
            )
            for o in result.observations
        ]
        if result.next_item is not None:
            next_topic = topics.REFRESH if item.targeted else topics.WORK
            next_page = encode_work_item(result.next_item, topic=next_topic)
            records.append(OutRecord(next_topic.kafka_name(settings.kafka), work_key, next_page))
        if result.retry is not None:
            records.append(retry_record(retry_topic, result.retry))
        if result.outcome is not None:
            records.append(
                OutRecord(
                    resources_topic,
                    shard_key,
                    encode_resource_event(result.outcome, topic=topics.RESOURCES),
                )
            )
        PAGES.labels(item.resource_type).inc()
        RESOURCES.labels(item.resource_type).inc(len(result.observations))
        log.info("described %s page %d: %s", item.shard, item.page_number, _summary(result))
        return records

    return handle


def redaction_key(options: DescriberSettings) -> bytes:
    """The deployment's redaction key; a ConfigError (never the key) when unset or short.

    There is no fallback: an unkeyed fingerprint of a low-entropy secret is recoverable.
    """
    if options.redaction_key is None:
        raise ConfigError(
            "describer.redaction_key is not set: give the deployment a secret of at least "
            f"{MIN_REDACTION_KEY_BYTES} bytes ({{secrets_manager: ARN}}, {{env: NAME}} or "
            "{file: PATH}; docs/security.md)"
        )
    key = resolve_secret(options.redaction_key, "redaction_key", "describer").encode()
    if len(key) < MIN_REDACTION_KEY_BYTES:
        raise ConfigError(
            f"describer.redaction_key: {options.redaction_key.describe()} holds fewer than "
            f"{MIN_REDACTION_KEY_BYTES} bytes (use e.g. openssl rand -hex 32)"
        )
    return key


def make_dead_letter_follow_up(settings: Settings) -> DeadLetterFollowUp:
    """What the describer produces with a page's dead letter, shared by the consumer loop and
    the Lambda handler: the shard's FAILED outcome, so a sweep never waits on a page that
    went to the DLQ."""
    resources_topic = topics.RESOURCES.kafka_name(settings.kafka)

    def follow_up(message: Message, error: BaseException) -> list[OutRecord]:
        try:
            # Without the page token: a bad token may be why the page went to the DLQ.
            item = decode_work_item_shard(message.value())
        except PoisonMessageError:
            return []  # not a work item at all: no shard to end, the dead letter is all
        outcome = dead_lettered_outcome(item, error, utc_now())
        if outcome is None:
            return []
        log.warning("%s ends FAILED: its page %d went to the DLQ", item.shard, item.page_number)
        return [
            OutRecord(
                resources_topic,
                str(item.shard).encode(),
                encode_resource_event(outcome, topic=topics.RESOURCES),
            )
        ]

    return follow_up


def build(settings: Settings, clients: AwsClients | None = None) -> TransactionalLoop:
    """Build the describer loop for the configured catalog types."""
    return transactional_group(
        settings,
        group=settings.describer.group_id,
        instance_id=settings.describer.instance_id,
        topics=input_topics(settings),
        handler=make_handler(settings, clients),
        dead_letter_follow_up=make_dead_letter_follow_up(settings),
        batch_size=settings.describer.batch_size,
        concurrency=settings.describer.concurrency,
        commit_watchdog_s=settings.describer.commit_watchdog_s,
    )


def input_topics(settings: Settings) -> list[str]:
    """The topics the describer group reads: sweep pages, retried pages, targeted refreshes."""
    return [t.kafka_name(settings.kafka) for t in (topics.WORK, topics.WORK_RETRY, topics.REFRESH)]


def retry_record(topic: str, item: WorkItem) -> OutRecord:
    """The retry of a page, with its due time in a header so the loop can hold it unread."""
    assert item.not_before is not None
    return OutRecord(
        topic,
        item.budget_key.encode(),
        encode_work_item(item, topic=topics.WORK_RETRY),
        [(NOT_BEFORE_HEADER, epoch_ms_header(item.not_before))],
    )


def _summary(result: DescribeResult) -> str:
    if result.retry is not None:
        retry = result.retry
        return f"retry #{retry.attempt} at {retry.not_before:%H:%M:%S} ({retry.last_error})"
    if result.outcome is not None:
        return f"{len(result.observations)} resources, {result.outcome.status.value}"
    if result.next_item is None:
        return f"{len(result.observations)} resources refreshed"
    return f"{len(result.observations)} resources, more pages"


def run(settings: Settings) -> None:
    """Run the describer until SIGTERM."""
    run_group("describer", settings, build)
