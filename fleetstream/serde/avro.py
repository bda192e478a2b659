"""Avro encoding of every topic value, framed so that the writer's schema is always known.

Framing without a schema registry is Avro's *single-object encoding*: the two bytes C3 01,
the 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema's canonical form, then
the Avro binary body. Every version of a schema in schemas/ is known to the reader, so old
messages stay readable after a schema evolves.

With a schema registry configured (fleetstream.serde.registry), values are written in the
Confluent wire format instead (a zero byte, the 4-byte schema id, the body) and both framings
are read; the first byte tells them apart.
"""

from __future__ import annotations

import io
import json
import os
from functools import cache
from pathlib import Path
from typing import Any, Protocol, cast

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from fastavro.schema import fingerprint, to_parsing_canonical_form

from fleetstream.base.errors import PoisonMessageError
from fleetstream.kafka import topics
from fleetstream.kafka.topics import Topic

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"
_HEADER_LEN = len(SINGLE_OBJECT_MAGIC) + 8


class Codec(Protocol):
    """Encodes one subject's records and decodes them back."""

    def encode(self, record: dict[str, Any]) -> bytes:
        """Frame and encode one record with the newest schema."""
        ...

    def decode(self, data: bytes | None) -> dict[str, Any]:
        """Decode one framed record; anything undecodable is a PoisonMessageError."""
        ...


def schemas_dir() -> Path:
    """Where the .avsc files live: FLEETSTREAM_SCHEMAS_DIR, the installed package's schemas
    (the wheel ships them as package data) or, in a checkout, the repository's schemas/."""
    override = os.environ.get("FLEETSTREAM_SCHEMAS_DIR")
    if override:
        return Path(override)
    package = Path(__file__).resolve().parents[1]
    packaged = package / "schemas"
    return packaged if packaged.is_dir() else package.parent / "schemas"


def _fingerprint(parsed: dict[str, Any]) -> bytes:
    # fastavro renders the fingerprint as hex already in the spec's little-endian byte order.
    return bytes.fromhex(fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO"))


class AvroCodec:
    """Encodes with the newest version of one schema; decodes any known version."""

    def __init__(self, subject: str, directory: Path | None = None) -> None:
        directory = directory or schemas_dir()
        files = sorted(directory.glob(f"{subject}.v*.avsc"), key=_version_of)
        if not files:
            raise FileNotFoundError(f"no schema {subject}.v*.avsc in {directory}")
        self.subject = subject
        # The .avsc texts, oldest first (what a schema registry is given, history included).
        self.texts = [path.read_text().strip() for path in files]
        self._by_fingerprint: dict[bytes, dict[str, Any]] = {}
        for text in self.texts:
            parsed = _parse(text)
            self._by_fingerprint[_fingerprint(parsed)] = parsed
        self.schema = _parse(self.texts[-1])
        self._header = SINGLE_OBJECT_MAGIC + _fingerprint(self.schema)

    def encode(self, record: dict[str, Any]) -> bytes:
        """Frame and encode one record with the newest schema."""
        buffer = io.BytesIO()
        buffer.write(self._header)
        schemaless_writer(buffer, self.schema, record)
        return buffer.getvalue()

    def decode(self, data: bytes | None) -> dict[str, Any]:
        """Decode one framed record; anything undecodable is a PoisonMessageError."""
        if data is not None and data[:1] == CONFLUENT_MAGIC and len(data) >= 5:
            raise PoisonMessageError(
                f"{self.subject} message in the Confluent wire format (schema id "
                f"{int.from_bytes(data[1:5], 'big')}) but no schema registry is configured "
                "(serde.schema_registry_url)"
            )
        if data is None or len(data) < _HEADER_LEN or data[:2] != SINGLE_OBJECT_MAGIC:
            raise PoisonMessageError(f"not a single-object Avro {self.subject} message")
        writer = self._by_fingerprint.get(data[2:_HEADER_LEN])
        if writer is None:
            raise PoisonMessageError(
                f"unknown {self.subject} schema fingerprint {data[2:_HEADER_LEN].hex()}"
            )
        try:
            record = schemaless_reader(
                io.BytesIO(data[_HEADER_LEN:]), writer, self.schema, return_record_name=True
            )
        except Exception as exc:  # fastavro raises many types on corrupt bodies
            raise PoisonMessageError(f"corrupt {self.subject} body: {exc!r}") from exc
        if not isinstance(record, dict):
            raise PoisonMessageError(f"{self.subject} body is not a record")
        return record


def _parse(text: str) -> dict[str, Any]:
    return cast(dict[str, Any], parse_schema(json.loads(text)))


def _version_of(path: Path) -> int:
    return int(path.name.rsplit(".v", 1)[1].split(".", 1)[0])


@cache
def local_codec(subject: str) -> AvroCodec:
    """The single-object codec of one subject (schemas are read once)."""
    return AvroCodec(subject)


# Per logical topic, the codec that replaces the local one: set once at start when a registry
# is used (serde.registry.configure), one for every declared Avro topic.
_installed: dict[str, Codec] = {}


def install(codecs: dict[str, Codec]) -> None:
    """Use these codecs (logical topic -> codec, e.g. the registry's) instead of the local
    ones; {} resets."""
    _installed.clear()
    _installed.update(codecs)


def topic_codec(topic: Topic) -> Codec:
    """The codec of one declared topic's values: the registry's when one is configured."""
    if topic.schema is None:
        raise ValueError(f"topic {topic.name} has no Avro schema")
    return _installed.get(topic.name) or local_codec(topic.schema)


def codec(subject: str) -> Codec:
    """The codec of one schema: that of the first declared topic with it."""
    first = next((topic for topic in topics.ALL if topic.schema == subject), None)
    if first is None:
        raise KeyError(f"no declared topic has the schema {subject}")
    return topic_codec(first)
