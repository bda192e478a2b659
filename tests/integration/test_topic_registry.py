"""Every Avro topic's records, written by the pipeline's own serializers with a schema registry
configured, read back from a real Kafka by confluent_kafka's own AvroDeserializer under the
topic's TopicNameStrategy subject (README: Confluent tooling reads every topic)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from fleetstream.actions.models import (
    ActionRequest,
    ActionResult,
    ActionStep,
    ResultKind,
    Selector,
    Target,
)
from fleetstream.actions.wire import encode_request, encode_result, step_record
from fleetstream.base.config import Settings
from fleetstream.base.models import ShardOutcome, ShardStatus, WorkItem
from fleetstream.kafka import topics
from fleetstream.kafka.clients import ensure_topics
from fleetstream.serde import avro as serde
from fleetstream.serde.registry import configure, value_subject
from fleetstream.serde.wire import (
    ChangeEvent,
    ChangeType,
    ResourceState,
    encode_change_event,
    encode_resource_event,
    encode_resource_state,
    encode_work_item,
)
from tests.integration.helpers import ec2_observation, produce_raw, read_topic

pytestmark = pytest.mark.integration
AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

WORK = WorkItem("sweep-1", "111111111111", "eu-west-1", "ec2.instance", AT, AT)
REFRESH = WorkItem(
    "refresh-1", "111111111111", "eu-west-1", "ec2.instance", AT, AT, resource_ids=("i-1",)
)
OUTCOME = ShardOutcome(
    "sweep-1", "111111111111", "eu-west-1", "ec2.instance", ShardStatus.FAILED, 0, 0, AT, AT
)
CHANGE = ChangeEvent(
    "change-1", ChangeType.CREATED, "arn:i-1", "111111111111", "eu-west-1", "ec2.instance",
    "i-1", "sweep-1", AT,
)  # fmt: skip
REQUEST = ActionRequest(
    request_id="request-1",
    submission_id="submission-1",
    action="tag",
    params={"Team": "a"},
    selector=Selector("ec2.instance", accounts=("111111111111",)),
    max_targets=10,
    requested_by="alice",
    requested_at=AT,
)
STEP = ActionStep(
    request_id="request-1",
    submission_id="submission-1",
    action="tag",
    params={"Team": "a"},
    account_id="111111111111",
    region="eu-west-1",
    resource_type="ec2.instance",
    step_id="step-1",
    step="tag",
    targets=(Target("arn:i-1", "i-1"),),
    requested_by="alice",
    issued_at=AT,
)
RESULT = ActionResult("request-1", "submission-1", "tag", ResultKind.PLAN, "PLANNED", AT)


def samples(settings: Settings) -> dict[str, tuple[bytes, Callable[[dict[str, Any]], object]]]:
    """Per logical topic: a value as the pipeline writes it, and what identifies it read back."""
    work, delayed = step_record(settings, STEP), step_record(settings, replace(STEP, not_before=AT))
    assert work.value is not None and delayed.value is not None
    return {
        "work": (encode_work_item(WORK, topic=topics.WORK), lambda r: r["sweep_id"]),
        "work-retry": (encode_work_item(WORK, topic=topics.WORK_RETRY), lambda r: r["sweep_id"]),
        "refresh": (encode_work_item(REFRESH, topic=topics.REFRESH), lambda r: r["resource_ids"]),
        "resources": (
            encode_resource_event(ec2_observation("i-1", AT), topic=topics.RESOURCES),
            lambda r: r["body"]["resource_id"],
        ),
        "plan-outcomes": (
            encode_resource_event(OUTCOME, topic=topics.PLAN_OUTCOMES),
            lambda r: r["body"]["status"],
        ),
        "changes": (encode_change_event(CHANGE, topic=topics.CHANGES), lambda r: r["change_id"]),
        "state": (
            encode_resource_state(
                ResourceState(ec2_observation("i-1", AT), "f1"), topic=topics.STATE
            ),
            lambda r: r["fingerprint"],
        ),
        "actions": (encode_request(REQUEST, topic=topics.ACTIONS), lambda r: r["request_id"]),
        "action-work": (work.value, lambda r: r["step_id"]),
        "action-delay": (delayed.value, lambda r: r["not_before"]),
        "action-results": (
            encode_result(RESULT, topic=topics.ACTION_RESULTS),
            lambda r: r["status"],
        ),
    }


EXPECTED = {
    "work": "sweep-1",
    "work-retry": "sweep-1",
    "refresh": ["i-1"],
    "resources": "i-1",
    "plan-outcomes": "FAILED",
    "changes": "change-1",
    "state": "f1",
    "actions": "request-1",
    "action-work": "step-1",
    "action-delay": AT,
    "action-results": "PLANNED",
}


def test_every_topic_reads_back_through_confluent_kafkas_avro_deserializer(
    registry_settings: Settings, schema_registry: str
) -> None:
    settings = registry_settings
    ensure_topics(settings.kafka)
    configure(settings.serde, settings.kafka)
    written = samples(settings)
    # Every declared topic but the two that are not Avro (EventBridge's JSON as delivered, dead
    # letters' original bytes verbatim): a new topic needs a sample here.
    assert {t.name for t in topics.ALL if t.schema is None} == {"events", "dlq"}
    assert set(written) == {t.name for t in topics.ALL if t.schema is not None}

    registry = SchemaRegistryClient({"url": schema_registry})
    deserializer = AvroDeserializer(registry)
    failures: dict[str, str] = {}
    for name, (value, identity) in written.items():
        topic = settings.kafka.topic(name)
        produce_raw(settings, topic, [(b"k", value)])
        [message] = read_topic(settings, topic, idle_s=1.0)
        data: bytes = message.value()
        if data[:1] != serde.CONFLUENT_MAGIC:
            failures[name] = f"not in the Confluent wire format: {data[:2].hex()}"
            continue
        schema_id = int.from_bytes(data[1:5], "big")
        subject = value_subject(topic)
        try:
            registered = registry.get_latest_version(subject).schema_id
        except Exception as exc:  # recorded per topic, asserted below
            failures[name] = f"{subject} not registered: {exc}"
            continue
        if schema_id != registered:
            failures[name] = f"schema id {schema_id}, {subject} has {registered}"
            continue
        record = deserializer(data, SerializationContext(topic, MessageField.VALUE))
        assert isinstance(record, dict), name
        if identity(record) != EXPECTED[name]:
            failures[name] = f"read back {identity(record)!r}"
    assert failures == {}
