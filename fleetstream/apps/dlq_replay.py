"""Replaying dead letters after a fix: `fleetstream dlq replay`.

Exactly once, also when a run dies or is filtered: replayed messages and the replay group's
progress are committed together in Kafka transactions of `chunk` dead letters read (a killed
run's open transaction is aborted, so its readers, all read_committed, never see it), and the
progress of a filtered run is kept per original topic (fleetstream.apps.dlq_progress), so it never
commits past another topic's dead letters.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from fleetstream.apps.dlq_progress import PartitionProgress, Verdict, decode_marks, encode_marks
from fleetstream.base.config import KafkaSettings
from fleetstream.base.errors import FleetstreamError
from fleetstream.kafka import clients as kafka
from fleetstream.kafka import topics
from fleetstream.runtime.loop import header, position
from fleetstream.runtime.records import foreign_headers

log = logging.getLogger(__name__)
REPLAYED_FROM = "fs.replayed-from"
IDLE_END_S = 3.0
CHUNK = 500  # dead letters read per transaction: what a killed run has to redo at most
# A transaction is also committed after this long: it must end well within the producer's
# transaction.timeout.ms (15 s), e.g. while a filtered run scans many other topics' letters.
CHUNK_S = 5.0
TIMEOUT_S = 30.0
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What one replay did, per original topic."""

    replayed: Counter[str]
    skipped: int  # dead letters of other topics (filtered run) or without an original topic


def replay(
    settings: KafkaSettings,
    *,
    only_topic: str | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    group_id: str = "fleetstream-dlq-replay",
    chunk: int = CHUNK,
) -> ReplayReport:
    """Send dead letters back to the topic they came from, up to the DLQ's end at start.

    The replay group's committed offsets and per-topic marks remember what was replayed, so
    no run, filtered, limited or killed, ever replays a message twice or strands one; a dry
    run reads without producing or committing.
    """
    dlq = topics.DLQ.kafka_name(settings)
    # Commits only inside the replay's transactions, never on its own.
    consumer = Consumer(
        kafka.consumer_config(settings, group_id, auto_store=True) | {"enable.auto.commit": False}
    )
    producer: Producer | None = None
    try:
        if not dry_run:
            # One stable id per (group, DLQ): starting fences an earlier run that was killed
            # or is still going, and aborts its open transaction, before progress is read.
            producer = kafka.make_producer(settings, transactional_id=f"{group_id}.{dlq}")
            _retrying(lambda: producer.init_transactions(TIMEOUT_S) if producer else None)
        run = _Run(consumer, producer, dlq, only_topic, chunk)
        return run.replay(limit)
    finally:
        consumer.close()


class _Run:
    """One replay: reads the DLQ from the group's progress, produces and commits in chunks."""

    def __init__(
        self,
        consumer: Consumer,
        producer: Producer | None,
        dlq: str,
        only_topic: str | None,
        chunk: int,
    ) -> None:
        self._consumer = consumer
        self._producer = producer
        self._dlq = dlq
        self._only_topic = only_topic
        self._chunk = max(chunk, 1)
        self._progress: dict[int, PartitionProgress] = {}
        self._read: set[int] = set()  # partitions this run has read from
        self.replayed: Counter[str] = Counter()
        self.skipped = 0

    def replay(self, limit: int | None) -> ReplayReport:
        ends = _retrying(lambda: _ends(self._consumer, self._dlq))
        self._progress = _committed_progress(self._consumer, self._dlq, sorted(ends))
        starts = {p: progress.committed for p, progress in self._progress.items()}
        self._consumer.assign([TopicPartition(self._dlq, p, starts[p]) for p in ends])
        pending = {p for p, end in ends.items() if starts[p] < end}
        in_chunk = 0
        chunk_since = self._begin()
        idle_since = time.monotonic()
        while pending and (limit is None or sum(self.replayed.values()) < limit):
            message = self._consumer.poll(0.5)
            if message is None or message.error() is not None:
                if time.monotonic() - idle_since > IDLE_END_S:
                    break  # the rest is transaction markers or aborted records
                continue
            idle_since = time.monotonic()
            _topic, partition, offset = position(message)
            if offset >= ends[partition] - 1:
                pending.discard(partition)
            self._take(message, partition, offset)
            in_chunk += 1
            if in_chunk >= self._chunk or time.monotonic() - chunk_since > CHUNK_S:
                self._commit()
                chunk_since = self._begin()
                in_chunk = 0
        self._commit()
        return ReplayReport(self.replayed, self.skipped)

    def _take(self, message: Message, partition: int, offset: int) -> None:
        """Replay the message if it is due."""
        raw = header(message, "fs.original.topic")
        target = None if raw is None else raw.decode("utf-8", "replace")
        verdict = self._progress[partition].take(offset, target, self._only_topic)
        self._read.add(partition)
        if verdict is Verdict.UNROUTABLE:
            log.warning("dead letter %s:%d:%d has no original topic", self._dlq, partition, offset)
        if verdict in {Verdict.HELD, Verdict.UNROUTABLE}:
            self.skipped += 1
        if verdict is not Verdict.REPLAY or target is None:
            return
        if self._producer is not None:
            _send(self._producer, message, target, f"{self._dlq}:{partition}:{offset}")
        self.replayed[target] += 1

    def _begin(self) -> float:
        """Open the next transaction; when it was opened."""
        if self._producer is not None:
            self._producer.begin_transaction()
        return time.monotonic()

    def _commit(self) -> None:
        """Commit what was produced together with the progress it makes, or nothing."""
        producer = self._producer
        if producer is None:
            return
        offsets = []
        for partition in sorted(self._read):
            offset, marks = self._progress[partition].commit_point(self._only_topic)
            offsets.append(TopicPartition(self._dlq, partition, offset, encode_marks(marks)))
        try:
            if not offsets:
                producer.abort_transaction(TIMEOUT_S)
                return
            producer.send_offsets_to_transaction(
                offsets, self._consumer.consumer_group_metadata(), TIMEOUT_S
            )
            producer.commit_transaction(TIMEOUT_S)
        except KafkaException as exc:
            raise FleetstreamError(
                f"replay stopped, its last chunk was not committed (the next run replays it): "
                f"{exc.args[0]}"
            ) from None


def _send(producer: Producer, message: Message, topic: str, origin: str) -> None:
    headers = foreign_headers(message)
    headers.append((REPLAYED_FROM, origin.encode()))
    producer.produce(topic, key=message.key(), value=message.value(), headers=headers)
    producer.poll(0)


def _ends(consumer: Consumer, topic: str) -> dict[int, int]:
    metadata = consumer.list_topics(topic, timeout=10).topics[topic]
    if metadata.error is not None:
        raise FleetstreamError(f"cannot read {topic}: {metadata.error}")
    return {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
        for p in metadata.partitions
    }


def _committed_progress(
    consumer: Consumer, topic: str, partitions: list[int]
) -> dict[int, PartitionProgress]:
    asked = [TopicPartition(topic, p) for p in partitions]
    found = _retrying(
        lambda: consumer.committed(asked, timeout=10), f"committed offsets of {topic}"
    )
    return {
        tp.partition: PartitionProgress(
            committed=max(tp.offset, 0),
            marks=decode_marks(tp.metadata, f"{topic}:{tp.partition}"),
        )
        for tp in found
    }


def _retrying(call: Callable[[], _T], what: str = "") -> _T:
    """call(), again while Kafka answers that it is still getting ready (a new topic's
    leaders, a group's coordinator moving in, a fenced predecessor's transaction ending)."""
    for attempt in range(20):
        try:
            return call()
        except KafkaException as exc:
            if attempt == 19 or not _not_ready(exc.args[0]):
                if what:
                    raise FleetstreamError(f"cannot read {what}: {exc}") from None
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def _not_ready(error: KafkaError) -> bool:
    return error.retriable() or error.code() in {
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError._TIMED_OUT,
    }
