"""The expiry worker: every removal of an inventory item reaches `changes` and `state`.

`fleetstream expiry` reads the inventory table's DynamoDB Stream (enabled with old images if
it is off) and turns each removal that is not one of fleetstream's own tombstones (TTL expiry,
a DeleteItem by anyone) into a DELETED change with its reason and a state tombstone, keyed by
ARN like the sink's records. Positions are checkpointed in `sink.stream_checkpoint_table`
after the records are flushed to Kafka: after a crash the last batch is read again and its
records repeat identically (same change_id), which consumers already drop as duplicates.

One process per deployment: two readers would announce every removal twice (harmless, as
above, but wasteful). A removal whose item exists again when it is read (the sink wrote a
newer observation since) is not announced: the sink's CREATED change and state of the new
item stand, and a late tombstone would erase that state.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

import boto3
from confluent_kafka import Producer

from consumers.sink.changes import deleted_output
from consumers.sink.expiry.checkpoints import Checkpoints
from consumers.sink.expiry.metrics import REMOVALS, REMOVALS_SKIPPED
from consumers.sink.expiry.reader import StreamReader
from consumers.sink.expiry.removals import deletion_of
from consumers.sink.main import _raise_on_failed_delivery, to_records
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.errors import ConfigError, RetryBatchError
from fleetstream.base.metrics import serve
from fleetstream.inventory.dynamodb import Tables, call_dynamodb
from fleetstream.kafka import clients as kafka
from fleetstream.kafka import topics

log = logging.getLogger(__name__)

OLD_IMAGE_VIEWS = frozenset({"NEW_AND_OLD_IMAGES", "OLD_IMAGE"})
_FLUSH_S = 30.0
_STREAM_CHECK_S = 10.0  # how often the table's current stream is compared with the one read


def streams_client(settings: Settings) -> Any:
    """The DynamoDB Streams client of the inventory table (DynamoDB Local serves it too)."""
    return boto3.client(
        "dynamodbstreams",
        region_name=settings.aws.region,
        endpoint_url=settings.sink.dynamodb_endpoint or settings.aws.endpoint_url,
    )


def stream_arn(ddb: Any, table: str) -> str:
    """The table's stream with old images, enabled here when it is off."""
    spec = ddb.describe_table(TableName=table)["Table"].get("StreamSpecification") or {}
    if spec.get("StreamEnabled") and spec.get("StreamViewType") not in OLD_IMAGE_VIEWS:
        raise ConfigError(
            f"the stream of {table} carries {spec.get('StreamViewType')}: removals need the old "
            "image (StreamViewType NEW_AND_OLD_IMAGES or OLD_IMAGE)"
        )
    if not spec.get("StreamEnabled"):
        log.warning("enabling the stream of %s: removals before now were not recorded", table)
        ddb.update_table(
            TableName=table,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
    arn = ddb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
    if not arn:
        raise ConfigError(f"{table} has no stream after enabling it")
    return str(arn)


class Announcer:
    """Turns a batch of stream records into DELETED changes and state tombstones in Kafka."""

    def __init__(self, settings: Settings, ddb: Any, producer: Producer) -> None:
        self.ddb = ddb
        self.table = settings.sink.table
        self.producer = producer
        self.changes = topics.CHANGES.kafka_name(settings.kafka)
        self.state = topics.STATE.kafka_name(settings.kafka)

    def __call__(self, records: list[dict[str, Any]]) -> None:
        outputs = []
        for record in records:
            deletion = deletion_of(record)
            if deletion is None:
                continue
            if self._exists(deletion.arn):
                REMOVALS_SKIPPED.labels("superseded").inc()
                continue
            outputs.append(deleted_output(deletion))
            REMOVALS.labels(deletion.reason).inc()
            log.info("%s %s: DELETED (%s)", deletion.resource_type, deletion.arn, deletion.reason)
        for out in to_records(outputs, self.changes, self.state):
            self.producer.produce(out.topic, key=out.key, value=out.value)
        if self.producer.flush(_FLUSH_S) > 0:
            raise RetryBatchError("Kafka did not acknowledge the removals in time", 5.0)

    def _exists(self, arn: str) -> bool:
        found = call_dynamodb(
            self.ddb,
            "get_item",
            TableName=self.table,
            Key={"arn": {"S": arn}},
            ProjectionExpression="arn",
            ConsistentRead=True,
        )
        return "Item" in found


def build(settings: Settings) -> StreamReader:
    """The reader of the inventory table's stream (tables created, stream enabled if needed)."""
    ddb = dynamodb_client(settings)
    Tables(
        ddb, settings.sink.table, settings.sink.sweeps_table, settings.sink.seen_table_name
    ).ensure()
    producer = Producer(
        kafka.producer_config(settings.kafka) | {"on_delivery": _raise_on_failed_delivery}
    )
    return reader_of(settings, ddb, stream_arn(ddb, settings.sink.table), producer)


def reader_of(settings: Settings, ddb: Any, arn: str, producer: Producer) -> StreamReader:
    """A reader of one stream of the table, its checkpoints loaded."""
    checkpoints = Checkpoints(ddb, settings.sink.stream_checkpoint_table_name, arn)
    checkpoints.ensure()
    reader = StreamReader(
        streams_client(settings), arn, checkpoints, Announcer(settings, ddb, producer)
    )
    reader.start()
    return reader


def next_stream(settings: Settings, reader: StreamReader) -> StreamReader:
    """The reader to go on with: the same one, or, once the table's stream was disabled or
    replaced (disabled and enabled again: a new stream ARN) and the old one is read to its
    end, a reader of the table's current stream (enabled again here if it is off)."""
    announcer = reader.deliver
    assert isinstance(announcer, Announcer)
    ddb = announcer.ddb
    table = call_dynamodb(ddb, "describe_table", TableName=settings.sink.table)["Table"]
    enabled = (table.get("StreamSpecification") or {}).get("StreamEnabled", False)
    if enabled and table.get("LatestStreamArn") == reader.stream_arn:
        return reader
    if not reader.drained():
        return reader  # read the old stream to its end first: its removals come before
    log.warning(
        "the stream of %s was disabled or replaced: reading the new one", settings.sink.table
    )
    return reader_of(settings, ddb, stream_arn(ddb, settings.sink.table), announcer.producer)


def run(settings: Settings) -> None:
    """Read the stream until SIGTERM; idle polls wait sink.stream_poll_s."""
    kafka.preflight(settings.kafka)
    kafka.ensure_topics(settings.kafka)
    port = serve(settings.metrics)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    reader = build(settings)
    log.info("expiry started on %s; metrics on port %d", reader.stream_arn, port)
    checked = time.monotonic()
    while not stop.is_set():
        try:
            if time.monotonic() - checked > _STREAM_CHECK_S:
                reader = next_stream(settings, reader)
                checked = time.monotonic()
            read = reader.poll()
        except RetryBatchError as exc:
            log.warning("retrying in %.0fs: %s", exc.retry_after, exc)
            stop.wait(exc.retry_after)
            continue
        if read == 0:
            stop.wait(settings.sink.stream_poll_s)
    log.info("expiry stopped")
