"""The Confluent Schema Registry wire format, with confluent_kafka's Avro serializers.

When serde.schema_registry_url is set, every topic value is written as a zero byte, the 4-byte
big-endian schema id and the Avro body (Confluent's wire format), and readers accept both that
and the single-object framing (serde.py), told apart by the first byte: a topic can switch
framing while consumers are reading it.

Subjects follow the TopicNameStrategy: "<topic>-value", one for every topic declared with an
Avro schema (fleetstream/kafka/topics.py; work, work-retry and refresh are three subjects of one
schema), and every topic gets its own codec, so its records carry its subject's schema id. With
serde.auto_register (the default), a process registers every version of its schemas in
schemas/, oldest first, at start, after setting the subject's compatibility level to
BACKWARD_TRANSITIVE, so the registry holds the same history as the repository and refuses an
incompatible schema as the contract test does. Without it, the schemas must already be
registered (`fleetstream schemas register`, e.g. from a deploy pipeline that alone may write to
the registry) and the process only looks them up.
"""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka.schema_registry import (
    Schema,
    SchemaRegistryClient,
    SchemaRegistryError,
    topic_subject_name_strategy,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

from fleetstream.base.config import KafkaSettings, SerdeSettings
from fleetstream.base.errors import ConfigError, PoisonMessageError
from fleetstream.kafka import topics
from fleetstream.serde import avro as serde

log = logging.getLogger(__name__)

# The schema of every logical topic's value, from the declarations (events are JSON and the
# dlq carries original bytes verbatim: neither is here).
VALUE_SCHEMAS = {topic.name: topic.schema for topic in topics.ALL if topic.schema is not None}
COMPATIBILITY = "BACKWARD_TRANSITIVE"


def value_subject(topic: str) -> str:
    """The TopicNameStrategy subject of a topic's values."""
    return f"{topic}-value"


class RegistryCodec:
    """Writes the Confluent wire format; reads it and the single-object framing."""

    def __init__(self, local: serde.AvroCodec, client: SchemaRegistryClient, topic: str) -> None:
        self._local = local
        newest = Schema(local.texts[-1], "AVRO")
        # Lookup only: registration happens once at start (register_schemas), never per record.
        conf = {
            "auto.register.schemas": False,
            "subject.name.strategy": topic_subject_name_strategy,
        }
        self._serializer = AvroSerializer(client, newest, conf=conf)
        # The newest schema is the reader's: an older writer's records are resolved to it.
        self._deserializer = AvroDeserializer(client, newest, return_record_name=True)
        self._context = SerializationContext(topic, MessageField.VALUE)

    def encode(self, record: dict[str, Any]) -> bytes:
        """Confluent wire format with the newest schema's registered id."""
        data: bytes | None = self._serializer(record, self._context)
        assert data is not None  # only None for a None record
        return data

    def decode(self, data: bytes | None) -> dict[str, Any]:
        """Either framing; an unknown schema id or a corrupt body is a PoisonMessageError."""
        if data is None or data[:1] != serde.CONFLUENT_MAGIC:
            return self._local.decode(data)
        try:
            record = self._deserializer(data, self._context)
        except SerializationError as exc:
            raise PoisonMessageError(f"corrupt {self._local.subject} message: {exc}") from exc
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:
                raise PoisonMessageError(
                    f"{self._local.subject} schema id {int.from_bytes(data[1:5], 'big')} "
                    "is not in the schema registry"
                ) from exc
            raise  # the registry is unreachable or failing: not the message's fault
        if not isinstance(record, dict):
            raise PoisonMessageError(f"{self._local.subject} body is not a record")
        return record


def client(settings: SerdeSettings) -> SchemaRegistryClient:
    """A registry client for the configured URL (basic auth when user_info is set)."""
    assert settings.schema_registry_url is not None
    conf: dict[str, Any] = {"url": settings.schema_registry_url}
    if settings.schema_registry_user_info is not None:
        conf["basic.auth.user.info"] = settings.schema_registry_user_info.get_secret_value()
    return SchemaRegistryClient(conf)


def register_schemas(registry: SchemaRegistryClient, kafka: KafkaSettings) -> dict[str, int]:
    """Set BACKWARD_TRANSITIVE and register every schema version for every topic's subject.

    Idempotent. Returns subject -> the newest version's schema id. An incompatible schema
    is a ConfigError naming the subject and the file version.
    """
    ids: dict[str, int] = {}
    for topic, subject_file in VALUE_SCHEMAS.items():
        subject = value_subject(kafka.topic(topic))
        texts = serde.local_codec(subject_file).texts
        try:
            registry.set_compatibility(subject, COMPATIBILITY)
            for version, text in enumerate(texts, start=1):
                ids[subject] = _register(registry, subject, text, f"{subject_file}.v{version}")
        except SchemaRegistryError as exc:
            raise ConfigError(f"schema registry refused {subject}: {exc}") from None
    return ids


def _register(registry: SchemaRegistryClient, subject: str, text: str, name: str) -> int:
    try:
        return registry.register_schema(subject, Schema(text, "AVRO"))
    except SchemaRegistryError as exc:
        if exc.http_status_code == 409:
            raise ConfigError(
                f"schema registry refused {name}.avsc for {subject} as incompatible "
                f"({COMPATIBILITY}): {exc.error_message}"
            ) from None
        raise


def check_registered(registry: SchemaRegistryClient, kafka: KafkaSettings) -> None:
    """Fail at start, not at the first record, when a newest schema is not registered."""
    for topic, subject_file in VALUE_SCHEMAS.items():
        subject = value_subject(kafka.topic(topic))
        newest = serde.local_codec(subject_file).texts[-1]
        try:
            registry.lookup_schema(subject, Schema(newest, "AVRO"))
        except SchemaRegistryError as exc:
            raise ConfigError(
                f"{subject_file} (newest) is not registered under {subject} and "
                f"serde.auto_register is off; run `fleetstream schemas register` ({exc})"
            ) from None


def configure(serde_settings: SerdeSettings, kafka: KafkaSettings) -> None:
    """Install the registry's codecs process-wide when a registry is configured."""
    if serde_settings.schema_registry_url is None:
        serde.install({})
        return
    registry = client(serde_settings)
    try:
        if serde_settings.auto_register:
            register_schemas(registry, kafka)
        else:
            check_registered(registry, kafka)
    except ConfigError:
        raise
    except Exception as exc:  # httpx's connection errors and whatever the client wraps
        raise ConfigError(
            f"cannot use the schema registry at {serde_settings.schema_registry_url}: "
            f"{type(exc).__name__}: {exc}; check serde.schema_registry_url"
        ) from None
    serde.install(
        {
            topic: RegistryCodec(serde.local_codec(schema), registry, kafka.topic(topic))
            for topic, schema in VALUE_SCHEMAS.items()
        }
    )
    log.info("values in the Confluent wire format (schema registry configured)")
