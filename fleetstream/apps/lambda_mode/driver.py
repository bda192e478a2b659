"""One Lambda invocation's batch through the consumer groups' own handlers.

The event source mapping (ESM) owns the offsets: it commits a batch when the function returns
and, with FunctionResponseTypes [ReportBatchItemFailures], retries each partition named in the
response from the named record on. So a record counts as done once its outputs are delivered:

- poison (undecodable, unknown schema or type, an unreadable fs.not-before header) and handler
  failures: a dead letter with the same envelope as the consumer groups'
  (fleetstream.runtime.records.dead_letter), and for a sweep page its shard's FAILED outcome; once
  they are delivered the record is a success, so one bad record never makes Lambda retry the
  batch;
- transient failures (a record whose outputs were not all delivered, DynamoDB throttling or
  unavailability in the sink, a retried page not due within this invocation): the lowest such
  offset of each partition is reported; Lambda retries that partition from there, and what
  after it already succeeded is redone (the outputs are idempotent downstream).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from fleetstream.apps.lambda_mode.event import batch_response, messages
from fleetstream.base.errors import PoisonMessageError, RetryBatchError
from fleetstream.runtime.loop import (
    BatchWriter,
    DeadLetterFollowUp,
    Handler,
    handle_or_park,
    not_before_ms,
    position,
)
from fleetstream.runtime.records import OutRecord

log = logging.getLogger(__name__)

Position = tuple[str, int, int]
RemainingMs = Callable[[], int]


def deliver(
    producer: Producer, outputs: Sequence[tuple[Message, list[OutRecord]]], timeout_s: float
) -> set[Position]:
    """Produce every output; the positions of the sources whose outputs were not all delivered."""
    pending: dict[Position, int] = {}
    failed: set[Position] = set()

    def tracker(source: Position) -> Callable[[KafkaError | None, Message], None]:
        def on_delivery(error: KafkaError | None, _message: Message) -> None:
            if error is None:
                pending[source] -= 1
            else:
                log.warning("delivery failed for the outputs of %s: %s", source, error)
                failed.add(source)

        return on_delivery

    for source, records in outputs:
        where = position(source)
        pending[where] = pending.get(where, 0) + len(records)
        for record in records:
            _produce(producer, record, tracker(where))
    producer.flush(timeout_s)
    return failed | {where for where, count in pending.items() if count > 0}


def _produce(
    producer: Producer, record: OutRecord, on_delivery: Callable[[KafkaError | None, Message], None]
) -> None:
    while True:
        try:
            producer.produce(
                record.topic,
                value=record.value,
                key=record.key,
                headers=record.headers,
                on_delivery=on_delivery,
            )
        except BufferError:
            producer.poll(0.1)  # the local queue is full: let deliveries drain it
        else:
            return


def first_failures(batch: Sequence[Message], failed: set[Position]) -> list[Message]:
    """Per partition, the lowest-offset failed record: where Lambda must retry from."""
    first: dict[tuple[str, int], Message] = {}
    for message in batch:
        topic, partition, offset = position(message)
        if (topic, partition, offset) in failed:
            known = first.get((topic, partition))
            if known is None or offset < position(known)[2]:
                first[(topic, partition)] = message
    return list(first.values())


def first_of_each_partition(batch: Sequence[Message]) -> set[Position]:
    """The whole batch as failed: every partition retried from its first record."""
    return {position(m) for m in first_failures(batch, {position(m) for m in batch})}


class DescriberBatch:
    """The describer's handler over an invocation's work and work-retry records."""

    def __init__(
        self,
        handler: Handler,
        producer: Producer,
        *,
        group: str,
        dlq_topic: str,
        concurrency: int,
        dead_letter_follow_up: DeadLetterFollowUp | None = None,
        delivery_timeout_s: float = 30.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._handler = handler
        self._dead_letter_follow_up = dead_letter_follow_up
        self._producer = producer
        self._group = group
        self._dlq_topic = dlq_topic
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="handler")
        self._delivery_timeout_s = delivery_timeout_s
        self._clock = clock
        self._sleep = sleep

    def __call__(self, event: dict[str, Any], remaining_ms: RemainingMs) -> dict[str, Any]:
        """Describe the batch's pages; return the partial batch response."""
        batch = messages(event)
        ready, held = self._due(batch, remaining_ms())
        try:
            outputs = list(self._pool.map(lambda m: (m, self._handle(m)), ready))
        except RetryBatchError as exc:
            log.warning("batch will be retried by Lambda: %s", exc)
            return batch_response(first_failures(batch, first_of_each_partition(batch)))
        failed = deliver(self._producer, outputs, self._delivery_timeout_s) | held
        response = batch_response(first_failures(batch, failed))
        log.info(
            "described %d of %d records; %d partitions to retry",
            len(ready),
            len(batch),
            len(response["batchItemFailures"]),
        )
        return response

    def _handle(self, message: Message) -> list[OutRecord]:
        return handle_or_park(
            self._handler,
            message,
            group=self._group,
            dlq_topic=self._dlq_topic,
            follow_up=self._dead_letter_follow_up,
        )

    def _due(self, batch: list[Message], remaining_ms: int) -> tuple[list[Message], set[Position]]:
        """Records to describe now, and those held back (with everything after them on their
        partition): a retried page not due before this invocation must end stays unprocessed,
        so Lambda delivers it again. One sleep covers the pages due within the invocation."""
        now_ms = self._clock() * 1000
        # Wait only as long as leaves time to deliver the outputs; a due record always runs.
        budget_ms = max(0.0, remaining_ms - (self._delivery_timeout_s + 5) * 1000)
        ready: list[Message] = []
        held: set[Position] = set()
        held_partitions: set[tuple[str, int]] = set()
        wait_until_ms = now_ms
        for message in batch:
            topic, partition, offset = position(message)
            try:
                due_ms = not_before_ms(message, now_ms) or 0
            except PoisonMessageError:
                due_ms = 0  # unreadable: not held; handle_or_park sends it to the DLQ
            if (topic, partition) in held_partitions or due_ms > now_ms + budget_ms:
                held_partitions.add((topic, partition))
                held.add((topic, partition, offset))
                continue
            ready.append(message)
            wait_until_ms = max(wait_until_ms, due_ms)
        if wait_until_ms > now_ms:
            self._sleep((wait_until_ms - now_ms) / 1000)
        return ready, held


class SinkBatch:
    """The sink's batch writer over an invocation's resources records."""

    def __init__(
        self, writer: BatchWriter, producer: Producer, *, delivery_timeout_s: float = 30.0
    ) -> None:
        self._writer = writer
        self._producer = producer
        self._delivery_timeout_s = delivery_timeout_s

    def __call__(self, event: dict[str, Any], _remaining_ms: RemainingMs) -> dict[str, Any]:
        """Write the batch to DynamoDB, deliver its records; return the partial batch response."""
        batch = messages(event)
        if not batch:
            return batch_response([])
        everything = first_of_each_partition(batch)
        try:
            records = self._writer(batch)
        except RetryBatchError as exc:
            log.warning("DynamoDB is throttling or unavailable; Lambda retries the batch: %s", exc)
            return batch_response(first_failures(batch, everything))
        # The records are not tied to one input record (outcomes tombstone whole shards): any
        # failed delivery retries the batch, whose writes are idempotent.
        failed = deliver(self._producer, [(batch[0], records)], self._delivery_timeout_s)
        response = batch_response(first_failures(batch, everything if failed else set()))
        log.info("sank %d records, produced %d; retry: %s", len(batch), len(records), bool(failed))
        return response
