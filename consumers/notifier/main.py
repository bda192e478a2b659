"""Wires the notifier consumer group: changes topic -> a digest posted to a webhook.

At least once, one digest at a time: the offsets of the changes a digest covers are stored only
after the webhook accepted it, so a crash re-posts at most the digest that was in flight (its
changes come again from Kafka into the next digest). A webhook that rejects a digest for good
stops the process with a clear error and commits nothing: the changes stay in Kafka (14 days)
until the webhook is fixed and the notifier restarted.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition
from pydantic import SecretStr

from consumers.notifier.digest import Digest
from consumers.notifier.webhook import (
    PostAbandonedError,
    RetryPolicy,
    Webhook,
    WebhookRejectedError,
)
from fleetstream.base.config import NotifierSettings, Settings
from fleetstream.base.errors import ConfigError, PoisonMessageError
from fleetstream.base.metrics import MESSAGES, NOTIFIER_CHANGES, lag_stats_callback
from fleetstream.kafka import clients as kafka
from fleetstream.kafka import topics
from fleetstream.runtime.loop import ConsumerLoop, next_offsets, position, run_group
from fleetstream.serde.wire import ChangeEvent, decode_change_event

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pending:
    """A consumed message waiting for the digest that covers it (event None: sent to the DLQ)."""

    message: Message
    event: ChangeEvent | None


class NotifierLoop(ConsumerLoop):
    """Accumulates changes into a digest; posts it every window or at max_changes."""

    def __init__(
        self, *args: object, webhook: Webhook, options: NotifierSettings, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.webhook = webhook
        self.options = options
        self.pending: list[Pending] = []
        self.rejected = False
        self._window_started = 0.0

    def process_batch(self, batch: list[Message]) -> None:
        """Decode into the pending digest (poison to the DLQ); post it when it is due."""
        for message in batch:
            try:
                event: ChangeEvent | None = decode_change_event(message.value())
            except PoisonMessageError as exc:
                self.produce(self.to_dlq(message, exc, "poison"))
                event = None
            if not self.pending:
                self._window_started = time.monotonic()
            self.pending.append(Pending(message, event))
        self.flush_if_due()

    def idle(self) -> None:
        """Post a due digest; with nothing pending, the base loop's idle commit is safe."""
        self.flush_if_due()
        if not self.pending:
            super().idle()

    def finish(self) -> None:
        """On a stop, post what is pending if that needs no waiting (else it is re-read)."""
        self.stopping.set()  # whatever ended the loop, a post now gets one attempt, no retries
        if self.pending and not self.rejected:
            self.flush(len(self.pending))

    def flush_if_due(self) -> None:
        """Post a digest of every max_changes changes; the rest once its window has passed."""
        while len(self.pending) >= self.options.max_changes:
            if not self.flush(self.options.max_changes):
                return
        if self.pending and time.monotonic() - self._window_started >= self.options.window_s:
            self.flush(len(self.pending))

    def flush(self, count: int) -> bool:
        """Post the digest of the first count pending changes, then commit their offsets.

        A prefix of the consumption order is a prefix of every partition, so its offsets cover
        exactly these changes. False when the process stopped before the post succeeded.
        """
        covered, rest = self.pending[:count], self.pending[count:]
        digest = Digest(self.options.first_n)
        for item in covered:
            if item.event is not None:
                digest.add(item.event)
        if digest.total:
            try:
                attempts = self.webhook.post(digest.payload(), self.wait_paused)
            except PostAbandonedError:
                log.info("stopping before the digest was posted; its changes will be re-read")
                return False
            except WebhookRejectedError:
                self.rejected = True
                raise
            NOTIFIER_CHANGES.inc(digest.total)
            log.info("posted a digest of %d changes (%d attempts)", digest.total, attempts)
        # A partition revoked while the post waited belongs to another member now.
        owned = {(tp.topic, tp.partition) for tp in self.consumer.assignment()}
        self._commit([p.message for p in covered if _partition(p) in owned])
        self.pending = [p for p in rest if _partition(p) in owned]
        self._window_started = time.monotonic()
        return True

    def _commit(self, messages: list[Message]) -> None:
        # Dead letters first: their offsets are committed with the rest.
        if self.producer.flush(30):
            raise RuntimeError("dead letters not delivered; the digest's offsets stay unstored")
        if not messages:
            return
        offsets = next_offsets(messages)
        self.consumer.store_offsets(offsets=offsets)
        try:
            # Synchronous, so a crash after this point never re-posts this digest; digests
            # are rare, the wait is cheap. If it fails, auto-commit retries the stored offsets.
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            log.warning("commit after the digest failed (auto-commit will retry): %s", exc)
        for message in messages:
            MESSAGES.labels(self.group, str(message.topic())).inc()

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        super()._on_revoke(consumer, partitions)
        self._forget(partitions)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        super()._on_lost(consumer, partitions)
        self._forget(partitions)

    def _forget(self, partitions: list[TopicPartition]) -> None:
        # Their unposted changes are redelivered to the partitions' new owner, who posts them.
        gone = {(tp.topic, tp.partition) for tp in partitions}
        self.pending = [p for p in self.pending if _partition(p) not in gone]


def _partition(pending: Pending) -> tuple[str, int]:
    topic, partition, _offset = position(pending.message)
    return topic, partition


def webhook_url(options: NotifierSettings) -> SecretStr:
    """The configured webhook URL; a missing one is a one-line ConfigError."""
    if options.webhook_url is None:
        raise ConfigError(
            "notifier.webhook_url is not set (set FLEETSTREAM_NOTIFIER__WEBHOOK_URL to the "
            "incoming webhook's URL)"
        )
    return options.webhook_url


def build(settings: Settings) -> NotifierLoop:
    """Build the notifier loop."""
    options = settings.notifier
    url = webhook_url(options)
    policy = RetryPolicy(
        base_s=options.retry_base_s,
        max_backoff_s=options.retry_max_backoff_s,
        retry_after_max_s=options.retry_after_max_s,
        min_interval_s=60.0 / options.max_posts_per_minute,
        timeout_s=options.request_timeout_s,
    )
    group = options.group_id
    consumer = kafka.make_consumer(
        settings.kafka,
        group,
        stats_cb=lag_stats_callback(group),
        stats_interval_ms=settings.metrics.stats_interval_ms,
    )
    return NotifierLoop(
        consumer,
        kafka.make_producer(settings.kafka),
        group=group,
        topics=[topics.CHANGES.kafka_name(settings.kafka)],
        dlq_topic=topics.DLQ.kafka_name(settings.kafka),
        batch_size=options.batch_size,
        webhook=Webhook(url, policy),
        options=options,
    )


def run(settings: Settings) -> None:
    """Run the notifier until SIGTERM (or until the webhook rejects a digest for good)."""
    webhook_url(settings.notifier)  # before anything starts
    run_group("notifier", settings, build)
