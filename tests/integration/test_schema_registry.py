"""The Confluent wire format against a real schema registry (Apicurio Registry's
Confluent-compatible API) and a real Kafka: a `fleetstream sink` process reads both framings
and writes the Confluent one; confluent_kafka's deserializer and fleetstream's reader agree."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, SchemaRegistryError
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from fleetstream.base.config import Settings
from fleetstream.base.errors import PoisonMessageError
from fleetstream.kafka.clients import ensure_topics
from fleetstream.serde import avro as serde
from fleetstream.serde.registry import VALUE_SCHEMAS, configure, value_subject
from fleetstream.serde.wire import ChangeType, decode_change_event, encode_resource_event
from tests.integration.helpers import ec2_observation, produce_raw, read_topic

pytestmark = pytest.mark.integration
OBSERVED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def run_sink_until(settings: Settings, changes: int, log: Path) -> list[bytes]:
    """Run `fleetstream sink` (configured by the environment alone, registry included) until
    the changes topic holds `changes` records."""
    with log.open("ab") as out:
        sink = subprocess.Popen(
            [sys.executable, "-m", "fleetstream", "sink"], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 90
        values: list[bytes] = []
        while len(values) < changes and time.monotonic() < deadline and sink.poll() is None:
            values = [m.value() for m in read_topic(settings, settings.kafka.topic("changes"))]
        return values
    finally:
        sink.terminate()
        sink.wait(30)


def test_values_in_the_confluent_wire_format_registered_read_by_both_and_compatibility_enforced(
    registry_settings: Settings, schema_registry: str, log_dir: Path
) -> None:
    settings = registry_settings
    ensure_topics(settings.kafka)
    # A record written before the switch (single-object framing) ...
    before = encode_resource_event(ec2_observation("i-old", OBSERVED))
    configure(settings.serde, settings.kafka)
    # ... and one after it, in the Confluent wire format: the sink reads both.
    after = encode_resource_event(ec2_observation("i-new", OBSERVED))
    assert before[:2] == serde.SINGLE_OBJECT_MAGIC and after[:1] == serde.CONFLUENT_MAGIC

    registry = SchemaRegistryClient({"url": schema_registry})
    subjects = {value_subject(settings.kafka.topic(t)): s for t, s in VALUE_SCHEMAS.items()}
    for subject, schema_file in subjects.items():
        history = serde.local_codec(schema_file).texts
        assert registry.get_versions(subject) == list(range(1, len(history) + 1)), subject
        assert registry.get_compatibility(subject) == "BACKWARD_TRANSITIVE"
    changes_subject = value_subject(settings.kafka.topic("changes"))
    changes_id = registry.get_latest_version(changes_subject).schema_id

    topic = settings.kafka.topic("resources")
    produce_raw(settings, topic, [(b"k", before), (b"k", after)])
    values = run_sink_until(settings, changes=2, log=log_dir / "sink.log")
    assert len(values) == 2
    # Every change record: magic 0 + the registered id of changes-value's newest schema.
    assert {(v[:1], int.from_bytes(v[1:5], "big")) for v in values} == {(b"\x00", changes_id)}

    # confluent_kafka's own deserializer (writer schema fetched by id) ...
    deserializer = AvroDeserializer(registry)
    context = SerializationContext(settings.kafka.topic("changes"), MessageField.VALUE)
    records = [deserializer(v, context) for v in values]
    assert sorted(r["resource_id"] for r in records) == ["i-new", "i-old"]
    assert {r["change_type"] for r in records} == {"CREATED"}
    # ... and fleetstream's reader agree.
    events = [decode_change_event(v) for v in values]
    assert sorted(e.resource_id for e in events) == ["i-new", "i-old"]
    assert {e.change_type for e in events} == {ChangeType.CREATED}
    assert [e.change_id for e in events] == [r["change_id"] for r in records]

    # An id the registry does not know is a poison message, not a crash.
    with pytest.raises(PoisonMessageError, match="not in the schema registry"):
        decode_change_event(b"\x00" + (987_654).to_bytes(4, "big") + b"\x02")

    # The registry refuses an incompatible change (a new field without a default).
    incompatible = json.loads(serde.local_codec("change_event").texts[-1])
    incompatible["fields"].append({"name": "owner", "type": "string"})
    with pytest.raises(SchemaRegistryError) as refused:
        registry.register_schema(changes_subject, Schema(json.dumps(incompatible), "AVRO"))
    assert refused.value.http_status_code == 409
    assert registry.get_latest_version(changes_subject).schema_id == changes_id

    # Registration is idempotent: the CLI finds every version already there, same ids.
    done = subprocess.run(
        [sys.executable, "-m", "fleetstream", "schemas", "register"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"{changes_subject}: schema id {changes_id}" in done.stdout.splitlines()
