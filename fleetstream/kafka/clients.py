"""The only place that builds Kafka clients and topics."""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from confluent_kafka import (
    Consumer,
    ConsumerGroupState,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from fleetstream.base.config import KafkaSettings
from fleetstream.base.errors import ConfigError, UnavailableError
from fleetstream.kafka import topics
from fleetstream.kafka.auth import security_config

log = logging.getLogger(__name__)

# Logical topic -> its configs at creation, derived from the declarations (kafka/topics.py);
# names are prefixed by kafka.topic_prefix.
TOPICS: dict[str, dict[str, str]] = {topic.name: dict(topic.config) for topic in topics.ALL}

_quiet = logging.getLogger("fleetstream.librdkafka")


def client_config(settings: KafkaSettings) -> dict[str, Any]:
    """librdkafka properties every client shares: brokers, timeouts, security, logger."""
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "client.id": f"fleetstream-{socket.gethostname()}",
        "socket.connection.setup.timeout.ms": int(settings.connect_timeout_s * 1000),
        "logger": _quiet,
    }
    conf.update(security_config(settings))
    conf.update(settings.client)
    return conf


def producer_config(settings: KafkaSettings, transactional_id: str | None = None) -> dict[str, Any]:
    """An idempotent producer; transactional when an id is given."""
    conf = client_config(settings) | {
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 20,
        "compression.type": "zstd",
        "message.max.bytes": 8 * 1024 * 1024,
    }
    if transactional_id:
        conf["transactional.id"] = transactional_id
        # Transactions span only produce + commit (handlers run before begin_transaction),
        # so a short timeout bounds how long a crashed producer can block read_committed readers.
        conf["transaction.timeout.ms"] = 15_000
    return conf


def consumer_config(
    settings: KafkaSettings,
    group_id: str,
    *,
    stats_cb: Callable[[str], None] | None = None,
    stats_interval_ms: int = 5_000,
    auto_store: bool = False,
) -> dict[str, Any]:
    """A group consumer that commits only offsets the application stored after processing."""
    conf = client_config(settings) | {
        "group.id": group_id,
        "partition.assignment.strategy": "cooperative-sticky",
        "enable.auto.commit": True,
        "auto.commit.interval.ms": 1000,
        "enable.auto.offset.store": auto_store,
        "auto.offset.reset": "earliest",
        # Only committed transactions: a describer killed mid-page leaves nothing visible.
        "isolation.level": "read_committed",
        "max.poll.interval.ms": 300_000,
        "session.timeout.ms": 15_000,
        "heartbeat.interval.ms": 3_000,
        # A page chain hops through the work topic once per page; a transaction's records
        # become readable only at its commit marker, and a parked fetch otherwise waits 500 ms.
        "fetch.wait.max.ms": 50,
        # Prefetch bound. librdkafka's default (64 MB, and 100,000 messages, per partition)
        # let a consumer slower than its producers (the sink behind two describers) pull the
        # whole backlog into memory: the sink peaked at 430 MB at 48,000 resources (issue 16,
        # bench/results/S1-sink-memory.md). A batch is at most a few hundred ~3 KB records, so
        # 2 MB per partition still keeps the next batches fetched ahead of consume().
        "queued.max.messages.kbytes": 2048,
    }
    if stats_cb is not None:
        conf["stats_cb"] = stats_cb
        conf["statistics.interval.ms"] = stats_interval_ms
    # kafka.client is passed through verbatim: it wins over the defaults above too (e.g. a
    # longer max.poll.interval.ms, or a shorter one in tests of the group's liveness).
    conf.update(settings.client)
    return conf


def end_offsets(settings: KafkaSettings, topic: str) -> dict[int, int]:
    """partition -> high watermark of a topic now."""
    reader = Consumer(client_config(settings) | {"group.id": "ends-reader"})
    try:
        partitions = reader.list_topics(topic, timeout=10).topics[topic].partitions
        return {
            p: reader.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in partitions
        }
    finally:
        reader.close()


def make_producer(settings: KafkaSettings, transactional_id: str | None = None) -> Producer:
    """Build a producer (call init_transactions() yourself when transactional)."""
    return Producer(producer_config(settings, transactional_id))


def make_consumer(settings: KafkaSettings, group_id: str, **kwargs: Any) -> Consumer:
    """Build a group consumer."""
    return Consumer(consumer_config(settings, group_id, **kwargs))


def transactional_id(group_id: str, instance_id: str | None) -> str:
    """The producer's transactional id: stable per replica when an instance id is known.

    Group-metadata fencing (KIP-447) keeps any id correct; a stable one also makes a restarted
    replica abort its crashed predecessor's open transaction at once.
    """
    if instance_id:
        return f"{group_id}-{instance_id}"
    return f"{group_id}-{socket.gethostname()}-{uuid.uuid4().hex[:12]}"


def preflight(settings: KafkaSettings) -> None:
    """Fail within connect_timeout_s with one line when the brokers cannot be used.

    A refused TLS handshake or SASL login is reported as such as soon as librdkafka sees it,
    instead of as a timeout.
    """
    seen: list[KafkaError] = []
    # Its errors reach error_cb; its log lines would repeat them once per retry on stderr.
    quiet = {"error_cb": seen.append, "log_level": 0}
    try:
        admin = AdminClient(client_config(settings) | quiet)
    except KafkaException as exc:
        raise ConfigError(
            f"cannot build a Kafka client from kafka.security ({exc.args[0].str()}); check "
            "its files and key_password"
        ) from None
    deadline = time.monotonic() + settings.connect_timeout_s
    while True:
        try:
            admin.list_topics(timeout=max(0.1, min(0.5, deadline - time.monotonic())))
        except KafkaException as exc:
            last: KafkaError = exc.args[0]
        else:
            return
        admin.poll(0)  # serves error_cb
        refused = _refusal(settings, seen)
        if refused:
            raise ConfigError(refused)
        if time.monotonic() >= deadline:
            raise UnavailableError(
                f"cannot reach Kafka at {settings.bootstrap_servers} within "
                f"{settings.connect_timeout_s:g}s ({last.str()}); check "
                "kafka.bootstrap_servers or KAFKA_BOOTSTRAP_SERVERS, and kafka.security.mode"
            )


def _refusal(settings: KafkaSettings, errors: list[KafkaError]) -> str | None:
    """One line for a TLS or authentication failure among librdkafka's errors, if any."""
    where = f"Kafka at {settings.bootstrap_servers}"
    mode = settings.security.mode
    for error in errors:
        reason = error.str()
        if error.code() == KafkaError._SSL or "SSL handshake failed" in reason:
            return (
                f"TLS handshake with {where} failed ({reason}); check kafka.security.ca_file "
                f"and verify_hostname (mode {mode})"
            )
        if "SSL alert" in reason:  # the broker ended the handshake: it rejects our certificate
            return (
                f"{where} refused the TLS client certificate ({reason}); mode mtls needs "
                "kafka.security.certificate_file and key_file issued by a CA the brokers trust "
                f"(mode {mode})"
            )
        if error.code() in (KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED):
            return (
                f"{where} refused authentication ({reason}); check kafka.security.username "
                f"and password, or the IAM policy for msk_iam (mode {mode})"
            )
    return None


def ensure_topics(settings: KafkaSettings, names: Iterable[str] = tuple(TOPICS)) -> None:
    """Create the pipeline's topics if missing (idempotent; existing topics are left alone).

    Under ACLs (or MSK IAM) a stage sees and may create only its own topics
    (fleetstream/kafka/acl.py): a topic it may not create is another stage's to create, and a
    stage that then needs it fails on its first produce or fetch with the broker's reason.
    """
    admin = AdminClient(client_config(settings))
    existing = set(admin.list_topics(timeout=settings.connect_timeout_s).topics)
    wanted = [
        NewTopic(
            settings.topic(name),
            num_partitions=settings.partitions,
            replication_factor=settings.replication_factor,
            config=TOPICS[name],
        )
        for name in names
        if settings.topic(name) not in existing
    ]
    if not wanted:
        return
    for topic, future in admin.create_topics(wanted, operation_timeout=30).items():
        try:
            future.result()
            log.info("created topic %s", topic)
        except KafkaException as exc:
            name = exc.args[0].name()
            if name == "TOPIC_AUTHORIZATION_FAILED":
                log.debug("not authorized to create topic %s; left to its owner", topic)
            elif name != "TOPIC_ALREADY_EXISTS":
                raise


def wait_for_group(settings: KafkaSettings, group_id: str, members: int, timeout_s: float) -> bool:
    """Wait until a group is stable with `members` members that all hold partitions.

    Issuing work before the group settles makes the first pages race a rebalance.
    """
    admin = AdminClient(client_config(settings))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            future = admin.describe_consumer_groups([group_id], request_timeout=5)[group_id]
            group = future.result()
        except KafkaException:
            group = None
        if (
            group is not None
            and group.state == ConsumerGroupState.STABLE
            and len(group.members) == members
            and (
                members > settings.partitions
                or all(m.assignment.topic_partitions for m in group.members)
            )
        ):
            return True
        time.sleep(0.2)
    return False
