"""The consume-process-commit loops every consumer group runs.

Two delivery modes, one per kind of side effect:
- TransactionalLoop (Kafka -> Kafka): a batch's outputs and its input offsets are committed in one
  Kafka transaction, so a crash repeats nothing that downstream readers (read_committed) can see.
- AtLeastOnceLoop (Kafka -> external store): offsets are stored only after the batch's side
  effects are durable; a crash repeats the batch, which the idempotent store absorbs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from types import FrameType

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from fleetstream.base.config import Settings
from fleetstream.base.errors import PoisonMessageError, RetryBatchError
from fleetstream.base.metrics import DLQ, ERRORS, MESSAGES, REBALANCES, lag_stats_callback, serve
from fleetstream.kafka import clients as kafka
from fleetstream.kafka import topics as declared
from fleetstream.runtime.records import OutRecord, dead_letter, header_pairs

log = logging.getLogger(__name__)

Handler = Callable[[Message], list[OutRecord]]
# Records a group produces along with a message's dead letter (the describer ends the shard).
DeadLetterFollowUp = Callable[[Message, BaseException], list[OutRecord]]

# Header of a record that must not be processed before a time (epoch milliseconds).
NOT_BEFORE_HEADER = "fs.not-before"
# Header of an observation made by a targeted refresh: the AWS event's time (epoch ms).
TRIGGERED_AT_HEADER = "fs.triggered-at"
# The furthest ahead a due time may be. Retries and action waits are minutes; a record due
# years ahead would park its partition for good, so it goes to the DLQ instead.
MAX_HOLD_MS = 7 * 86_400_000
# Long work inside one batch serves the group at most this often (keep_alive).
KEEP_ALIVE_EVERY_S = 0.5


class PartitionsLostError(Exception):
    """A partition of the batch in progress left this consumer (rebalance or eviction): its
    new owner redoes the batch, so this consumer stops working on it."""


def epoch_ms_header(moment: datetime) -> bytes:
    """A time as the value of NOT_BEFORE_HEADER or TRIGGERED_AT_HEADER."""
    return str(int(moment.timestamp() * 1000)).encode()


def header(message: Message, name: str) -> bytes | None:
    """The first value of a header, or None."""
    for key, value in header_pairs(message):
        if key == name:
            return value if isinstance(value, bytes) or value is None else value.encode()
    return None


def not_before_ms(message: Message, now_ms: float) -> int | None:
    """A record's due time (epoch ms), None when it has none. Headers are untrusted input: a
    value that is not an integer or is more than MAX_HOLD_MS ahead is a PoisonMessageError."""
    value = header(message, NOT_BEFORE_HEADER)
    if value is None:
        return None
    try:
        due = int(value)
    except ValueError:
        raise PoisonMessageError(
            f"{NOT_BEFORE_HEADER} header is not a number: {value[:40]!r}"
        ) from None
    if due - now_ms > MAX_HOLD_MS:
        days = (due - now_ms) / 86_400_000
        raise PoisonMessageError(
            f"{NOT_BEFORE_HEADER} header is {days:.0f} days ahead "
            f"(at most {MAX_HOLD_MS // 86_400_000} days)"
        )
    return due


def position(message: Message) -> tuple[str, int, int]:
    """(topic, partition, offset) of a consumed message."""
    topic, partition, offset = message.topic(), message.partition(), message.offset()
    if topic is None or partition is None or offset is None:
        raise ValueError("message has no position (not a consumed message)")
    return topic, partition, offset


def next_offsets(messages: Sequence[Message]) -> list[TopicPartition]:
    """The offsets to commit after these messages: last offset + 1 per partition."""
    last: dict[tuple[str, int], int] = {}
    for message in messages:
        topic, partition, offset = position(message)
        last[(topic, partition)] = max(last.get((topic, partition), -1), offset)
    return [TopicPartition(topic, part, offset + 1) for (topic, part), offset in last.items()]


def first_offsets(messages: Sequence[Message]) -> list[TopicPartition]:
    """Where to rewind to retry these messages: first offset per partition."""
    first: dict[tuple[str, int], int] = {}
    for message in messages:
        topic, partition, offset = position(message)
        first.setdefault((topic, partition), offset)
    return [TopicPartition(topic, part, offset) for (topic, part), offset in first.items()]


def to_dead_letter(
    message: Message, exc: BaseException, *, kind: str, group: str, dlq_topic: str
) -> OutRecord:
    """The DLQ record of a message that failed, counted and logged with where it was.

    Every driver (the long-running loops here, the Lambda handlers) parks messages this way.
    """
    ERRORS.labels(group, kind).inc()
    DLQ.labels(group, str(message.topic())).inc()
    log.warning(
        "to DLQ: %s[%d]@%d: %s: %s",
        message.topic(),
        message.partition(),
        message.offset(),
        type(exc).__name__,
        exc,
    )
    return dead_letter(message, dlq_topic, group, exc)


def handle_or_park(
    handler: Handler,
    message: Message,
    *,
    group: str,
    dlq_topic: str,
    follow_up: DeadLetterFollowUp | None = None,
) -> list[OutRecord]:
    """Check the headers the loops read, run handler; any failure but RetryBatchError becomes
    a DLQ record (and the follow-up's records) so the partition keeps flowing."""

    def park(exc: BaseException, kind: str) -> list[OutRecord]:
        dead = to_dead_letter(message, exc, kind=kind, group=group, dlq_topic=dlq_topic)
        return [dead, *(follow_up(message, exc) if follow_up is not None else [])]

    try:
        # A due time the hold-back step could not read reaches here unheld: park it.
        not_before_ms(message, time.time() * 1000)
        return handler(message)
    except PoisonMessageError as exc:
        return park(exc, "poison")
    except RetryBatchError:
        raise
    except Exception as exc:  # the top of the loop: log where, park the message, go on
        log.exception(
            "handler failed on %s[%d]@%d", message.topic(), message.partition(), message.offset()
        )
        return park(exc, "handler")


class ConsumerLoop:
    """Subscribe, consume batches, process, commit; stop cleanly on SIGTERM/SIGINT."""

    def __init__(
        self,
        consumer: Consumer,
        producer: Producer,
        *,
        group: str,
        topics: Sequence[str],
        dlq_topic: str,
        batch_size: int,
        dead_letter_follow_up: DeadLetterFollowUp | None = None,
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.group = group
        self.topics = list(topics)
        self.dlq_topic = dlq_topic
        self.batch_size = batch_size
        self.dead_letter_follow_up = dead_letter_follow_up
        self.stopping = threading.Event()
        self._idle_committed: dict[tuple[str, int], int] = {}
        # Partitions paused on a record that is not due yet -> when it is (epoch ms).
        self._held: dict[tuple[str, int], int] = {}
        # The partitions of the batch in progress, and those of them released meanwhile.
        self._working_on: set[tuple[str, int]] = set()
        self._released_while_working: set[tuple[str, int]] = set()
        self._paused_for_work = False
        self._kept_alive_at = 0.0

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT finish the current batch, commit it and exit."""

        def _stop(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %d: finishing the current batch, then stopping", signum)
            self.stopping.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)

    def run(self) -> None:
        """Run until stop() or a signal; always closes the consumer."""
        self.consumer.subscribe(
            self.topics, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )
        self.start()
        try:
            while not self.stopping.is_set():
                self._resume_due()
                messages = self.consumer.consume(self.batch_size, timeout=0.5)
                batch = self._hold_back_not_due([m for m in messages if self._usable(m)])
                if batch:
                    self._start_work(batch)
                    try:
                        self.process_batch(batch)
                    finally:
                        self._end_work()
                elif not messages:
                    self.idle()
                self.tick()
        finally:
            self.finish()
            self.consumer.close()

    def stop(self) -> None:
        """Ask the loop to stop after the current batch."""
        self.stopping.set()

    def start(self) -> None:
        """Hook run once after subscribing."""

    def finish(self) -> None:
        """Hook run once before the consumer closes."""

    def tick(self) -> None:
        """Hook run after every poll, with or without messages (time-based work)."""

    def process_batch(self, batch: list[Message]) -> None:
        raise NotImplementedError

    def idle(self) -> None:
        """Hook run when a poll returned nothing: commit positions past transaction markers."""
        self._commit_idle_positions()

    def uncommitted(self) -> set[tuple[str, int]]:
        """Partitions with records read but not processed to their commit yet (e.g. held in a
        window): idle commits leave them alone, or a crash would lose those records."""
        return set()

    def handle_safely(self, handler: Handler, message: Message) -> list[OutRecord]:
        """Run handler; any failure becomes a DLQ record so the partition keeps flowing."""
        return handle_or_park(
            handler,
            message,
            group=self.group,
            dlq_topic=self.dlq_topic,
            follow_up=self.dead_letter_follow_up,
        )

    def produce(self, record: OutRecord) -> None:
        """Produce, waiting for queue space instead of failing when the local queue is full."""
        while True:
            try:
                self.producer.produce(
                    record.topic, value=record.value, key=record.key, headers=record.headers
                )
            except BufferError:
                self.producer.poll(0.1)
            else:
                return

    def keep_alive(self) -> None:
        """Serve the group from inside a long batch, between bounded pieces of its work.

        Polls with every partition paused, so no record is read (one already fetched is
        rewound to), but max.poll.interval.ms restarts, heartbeats flow and rebalances
        complete. Raises PartitionsLostError when a partition of the batch in progress was
        revoked or lost meanwhile: its new owner redoes the batch, so this one must stop.
        """
        now = time.monotonic()
        if now - self._kept_alive_at >= KEEP_ALIVE_EVERY_S:
            self._kept_alive_at = now
            # Partitions assigned meanwhile arrive unpaused: pause those too.
            self.consumer.pause(self.consumer.assignment())
            self._paused_for_work = True
            for stray in self.consumer.consume(1, timeout=0):
                if self._usable(stray):
                    self.consumer.seek(TopicPartition(*position(stray)))
        if self._released_while_working:
            raise PartitionsLostError(
                f"{_describe([TopicPartition(t, p) for t, p in self._released_while_working])}"
                " left this consumer during the batch"
            )

    def _start_work(self, batch: list[Message]) -> None:
        self._working_on = {position(m)[:2] for m in batch}
        self._released_while_working = set()
        self._kept_alive_at = time.monotonic()

    def _end_work(self) -> None:
        """Resume what keep_alive paused, except partitions held on a record not yet due."""
        self._working_on = set()
        if not self._paused_for_work:
            return
        self._paused_for_work = False
        ready = [
            tp for tp in self.consumer.assignment() if (tp.topic, tp.partition) not in self._held
        ]
        if ready:
            self.consumer.resume(ready)

    def held_partitions(self) -> set[tuple[str, int]]:
        """The partitions paused on a record that is not due yet."""
        return set(self._held)

    def wait_paused(self, seconds: float, rewind: Sequence[TopicPartition] = ()) -> bool:
        """Wait without reading and without leaving the group; False if stopping meanwhile.

        Every partition is paused, not just some: a message consumed from another partition
        while we wait would otherwise be skipped by the next stored offset.
        """
        self.consumer.pause(self.consumer.assignment())
        for tp in rewind:
            self.consumer.seek(tp)
        deadline = time.monotonic() + seconds
        # Keep polling while paused so the group does not evict us.
        while time.monotonic() < deadline and not self.stopping.is_set():
            wait = min(0.5, max(0.0, deadline - time.monotonic()))
            for stray in self.consumer.consume(1, timeout=wait):
                if self._usable(stray):
                    self.consumer.seek(TopicPartition(*position(stray)))
        # Not the partitions held on a record that is not due: they resume when it is due.
        self.consumer.resume(
            [tp for tp in self.consumer.assignment() if (tp.topic, tp.partition) not in self._held]
        )
        return not self.stopping.is_set()

    def _hold_back_not_due(self, batch: list[Message]) -> list[Message]:
        """Leave records that are not due unread: pause their partition and rewind to them.

        A retried page waits this way without a sleeping thread, without blocking other
        partitions and without tripping max.poll.interval.ms.
        """
        now_ms = time.time() * 1000
        ready: list[Message] = []
        for message in batch:
            topic, partition, offset = position(message)
            if (topic, partition) in self._held:
                continue  # everything after a held record waits behind it
            try:
                due = not_before_ms(message, now_ms)
            except PoisonMessageError:
                due = None  # unreadable: not held; handle_or_park sends it to the DLQ
            if due is not None and due > now_ms:
                self.consumer.pause([TopicPartition(topic, partition)])
                self.consumer.seek(TopicPartition(topic, partition, offset))
                self._held[(topic, partition)] = due
                continue
            ready.append(message)
        return ready

    def _resume_due(self) -> None:
        if not self._held:
            return
        now_ms = time.time() * 1000
        for (topic, partition), due in list(self._held.items()):
            if due <= now_ms:
                del self._held[(topic, partition)]
                self.consumer.resume([TopicPartition(topic, partition)])

    def _commit_idle_positions(self) -> None:
        """When idle, commit positions that moved past transaction markers.

        A transactional producer leaves a commit marker after its records; committing
        last offset + 1 would leave a phantom lag of 1 on every partition. When nothing is
        in flight, everything before the consumer's position has been processed, so the
        position itself is safe to commit; partitions with records still held (uncommitted())
        are not.
        """
        try:
            positions = self.consumer.position(self.consumer.assignment())
        except KafkaException:
            return
        held = self.uncommitted()
        moved = [
            tp
            for tp in positions
            if tp.offset >= 0
            and (tp.topic, tp.partition) not in held
            and self._idle_committed.get((tp.topic, tp.partition)) != tp.offset
        ]
        if not moved:
            return
        try:
            # Asynchronous: an idle loop must never block on an unreachable coordinator.
            self.consumer.commit(offsets=moved, asynchronous=True)
        except KafkaException as exc:
            log.debug("idle commit skipped: %s", exc)
            return
        for tp in moved:
            self._idle_committed[(tp.topic, tp.partition)] = tp.offset

    def to_dlq(self, message: Message, exc: BaseException, kind: str) -> OutRecord:
        """The DLQ record of a message that failed, counted and logged with where it was."""
        return to_dead_letter(message, exc, kind=kind, group=self.group, dlq_topic=self.dlq_topic)

    def _usable(self, message: Message) -> bool:
        error = message.error()
        if error is None:
            return True
        if error.code() != KafkaError._PARTITION_EOF:
            ERRORS.labels(self.group, "kafka").inc()
            log.warning("consumer error: %s", error)
            if error.fatal():
                raise KafkaException(error)
        return False

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        REBALANCES.labels(self.group, "assign").inc()
        log.info("assigned %s", _describe(partitions))

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        REBALANCES.labels(self.group, "revoke").inc()
        # Batches are processed to their commit between consume() calls, so nothing is in
        # flight here. librdkafka commits the stored offsets of revoked partitions itself
        # (auto-commit); a synchronous commit here could block the rebalance for as long as
        # the group coordinator is unreachable.
        log.info("revoked %s", _describe(partitions))
        self._release(partitions)

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        REBALANCES.labels(self.group, "lost").inc()
        log.warning(
            "lost %s (session expired); their uncommitted work will be redone",
            _describe(partitions),
        )
        self._release(partitions)

    def _release(self, partitions: list[TopicPartition]) -> None:
        """Forget what is held on partitions leaving us, and resume them: librdkafka keeps a
        partition's pause across an unassign, so one that comes back later would otherwise stay
        paused with nothing left to resume it (its held record is read again from the
        committed offset and held anew)."""
        for tp in partitions:
            self._held.pop((tp.topic, tp.partition), None)
            if (tp.topic, tp.partition) in self._working_on:
                self._released_while_working.add((tp.topic, tp.partition))
        try:
            self.consumer.resume(partitions)
        except KafkaException as exc:
            log.warning("could not resume %s: %s", _describe(partitions), exc)


def _describe(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "nothing"


class TransactionalLoop(ConsumerLoop):
    """Kafka -> Kafka with exactly-once: outputs and input offsets in one transaction."""

    def __init__(
        self,
        *args: object,
        handler: Handler,
        concurrency: int,
        commit_watchdog_s: float = 120.0,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.handler = handler
        self.commit_watchdog_s = commit_watchdog_s
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="handler")

    def start(self) -> None:
        self.producer.init_transactions(30)

    def finish(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def process_batch(self, batch: list[Message]) -> None:
        # Handlers of one batch run concurrently (they wait on AWS); outputs keep message order.
        results = list(self.pool.map(lambda m: self.handle_safely(self.handler, m), batch))
        self.commit_or_rewind(batch, results)

    def commit_or_rewind(self, batch: list[Message], results: list[list[OutRecord]]) -> bool:
        """Commit the outputs and the batch's offsets in one transaction; on an abortable
        error abort and rewind to the batch's first offsets (it will be redone)."""
        try:
            self._commit(batch, results)
        except KafkaException as exc:
            error = exc.args[0]
            ERRORS.labels(self.group, "kafka").inc()
            if not error.txn_requires_abort():
                raise  # fatal (e.g. fenced): exit, the replacement takes over
            log.warning("transaction aborted (%s); the batch will be redone", error)
            # An abort that times out (the broker away) is retriable: librdkafka's contract is
            # to call it again, and exiting would only hand the same abort to a replacement.
            with self._watchdog():
                _retrying(lambda: self.producer.abort_transaction(30))
            for tp in first_offsets(batch):
                self.consumer.seek(tp)
            return False
        for message in batch:
            MESSAGES.labels(self.group, str(message.topic())).inc()
        return True

    def _commit(self, batch: list[Message], results: list[list[OutRecord]]) -> None:
        # librdkafka's send_offsets_to_transaction can block past its timeout while the group
        # coordinator is away (librdkafka issue 5456). A process stuck there holds its
        # partitions forever, so the watchdog ends it: the replica that replaces it fences
        # the open transaction, and nothing that was not committed is visible downstream.
        with self._watchdog():
            self._commit_transaction(batch, results)

    @contextlib.contextmanager
    def _watchdog(self) -> Iterator[None]:
        """Exit the process (code 75) if the transactional calls inside take too long."""
        watchdog = threading.Timer(self.commit_watchdog_s, _stuck_in_commit)
        watchdog.daemon = True
        watchdog.start()
        try:
            yield
        finally:
            watchdog.cancel()

    def _commit_transaction(self, batch: list[Message], results: list[list[OutRecord]]) -> None:
        self.producer.begin_transaction()
        for records in results:
            for record in records:
                self.produce(record)
        offsets = next_offsets(batch)
        metadata = self.consumer.consumer_group_metadata()
        _retrying(lambda: self.producer.send_offsets_to_transaction(offsets, metadata, 30))
        # A retriable commit error means the commit may still be under way: librdkafka's
        # contract is to call commit_transaction again, never to begin a new transaction.
        _retrying(lambda: self.producer.commit_transaction(60))


def _retrying(call: Callable[[], None]) -> None:
    """Repeat a transactional call while it fails with a retriable error (the watchdog
    bounds how long); abortable and fatal errors go up to the caller."""
    while True:
        try:
            call()
        except KafkaException as exc:
            error = exc.args[0]
            if not error.retriable() or error.txn_requires_abort():
                raise
            log.warning("transactional call failed, retrying: %s", error)
            time.sleep(0.5)
        else:
            return


def _stuck_in_commit() -> None:
    log.critical("transaction commit stuck past the watchdog; exiting so a replica takes over")
    logging.shutdown()
    os._exit(STUCK_EXIT_CODE)


STUCK_EXIT_CODE = 75  # EX_TEMPFAIL: restart me
BatchWriter = Callable[[list[Message]], list[OutRecord]]
# How long the records of one batch may take to be delivered before the batch is redone.
DELIVERY_TIMEOUT_S = 30.0


class AtLeastOnceLoop(ConsumerLoop):
    """Kafka -> store: side effects first, then offsets; retries of a batch are idempotent."""

    def __init__(self, *args: object, writer: BatchWriter, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.writer = writer

    def process_batch(self, batch: list[Message]) -> None:
        try:
            records = self.writer(batch)
            self._deliver(records)
        except RetryBatchError as exc:
            ERRORS.labels(self.group, "retry").inc()
            log.warning("batch will be retried in %.1fs: %s", exc.retry_after, exc)
            self._rewind_and_wait(batch, exc.retry_after)
            return
        except PartitionsLostError as exc:
            # Nothing of the batch is stored: the new owner redoes the lost partitions' part
            # (idempotent, conditional writes), and this consumer redoes the rest of it.
            ERRORS.labels(self.group, "lost").inc()
            log.warning("batch abandoned: %s", exc)
            self._rewind_kept(batch)
            return
        self.consumer.store_offsets(offsets=next_offsets(batch))
        for message in batch:
            MESSAGES.labels(self.group, str(message.topic())).inc()

    def _deliver(self, records: list[OutRecord]) -> None:
        """Produce the batch's records and wait for every delivery, serving the group meanwhile
        (an outcome's thousands of DELETED records take a while)."""
        for record in records:
            self.produce(record)
            self.keep_alive()  # cheap: it polls at most every KEEP_ALIVE_EVERY_S
        if not records:
            return
        deadline = time.monotonic() + DELIVERY_TIMEOUT_S
        while self.producer.flush(KEEP_ALIVE_EVERY_S):
            if time.monotonic() >= deadline:
                # Offsets stay unstored: the batch is redone, never skipped.
                raise KafkaException(KafkaError(KafkaError._MSG_TIMED_OUT))
            self.keep_alive()

    def _rewind_and_wait(self, batch: list[Message], seconds: float) -> None:
        self.wait_paused(seconds, rewind=first_offsets(batch))

    def _rewind_kept(self, batch: list[Message]) -> None:
        """Rewind the batch's partitions this consumer still owns to the batch's start."""
        owned = {(tp.topic, tp.partition) for tp in self.consumer.assignment()}
        for tp in first_offsets(batch):
            if (tp.topic, tp.partition) in owned:
                self.consumer.seek(tp)


def transactional_group(
    settings: Settings,
    *,
    group: str,
    instance_id: str | None,
    topics: Sequence[str],
    handler: Handler,
    batch_size: int,
    concurrency: int,
    commit_watchdog_s: float,
    dead_letter_follow_up: DeadLetterFollowUp | None = None,
) -> TransactionalLoop:
    """A Kafka -> Kafka group: lag-reporting consumer, transactional producer, the loop."""
    consumer = kafka.make_consumer(
        settings.kafka,
        group,
        stats_cb=lag_stats_callback(group),
        stats_interval_ms=settings.metrics.stats_interval_ms,
    )
    producer = kafka.make_producer(settings.kafka, kafka.transactional_id(group, instance_id))
    return TransactionalLoop(
        consumer,
        producer,
        group=group,
        topics=topics,
        dlq_topic=declared.DLQ.kafka_name(settings.kafka),
        batch_size=batch_size,
        handler=handler,
        concurrency=concurrency,
        commit_watchdog_s=commit_watchdog_s,
        dead_letter_follow_up=dead_letter_follow_up,
    )


def run_group(name: str, settings: Settings, build: Callable[[Settings], ConsumerLoop]) -> None:
    """Start one consumer-group process: check Kafka, create topics, serve metrics, run."""
    kafka.preflight(settings.kafka)
    kafka.ensure_topics(settings.kafka)
    port = serve(settings.metrics)
    loop = build(settings)
    loop.install_signal_handlers()
    log.info("%s started; metrics on port %d", name, port)
    loop.run()
