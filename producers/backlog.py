"""How much unread work the describer group has: the planner's backpressure signal."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from fleetstream.base.config import Settings
from fleetstream.kafka import admin as kafka_admin
from fleetstream.kafka import topics
from fleetstream.kafka.admin import pending_records
from fleetstream.kafka.clients import client_config

# The topics of sweep work (targeted refreshes have their own topic and do not count).
SWEEP_TOPICS = (topics.WORK, topics.WORK_RETRY)
COORDINATOR_ATTEMPTS = 20
COORDINATOR_MOVING = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError._WAIT_COORD,
}


class DescriberBacklog:
    """Reads the describer group's committed offsets and the sweep topics' ends."""

    def __init__(self, settings: Settings, admin: AdminClient | None = None) -> None:
        self._settings = settings
        self._admin = admin or kafka_admin.admin_client(settings.kafka)
        self._topics = [topic.kafka_name(settings.kafka) for topic in SWEEP_TOPICS]
        # Committed offsets are read with a consumer of the describers' group that never
        # subscribes (so never joins nor commits): the admin ListConsumerGroupOffsets of
        # librdkafka 2.16 crashes the process (SIGSEGV, rkcg NULL in rd_kafka_cgrp_op) when the
        # answer is NOT_COORDINATOR, e.g. for a group not used yet (librdkafka issue 5040).
        self._offsets_reader = Consumer(
            client_config(settings.kafka)
            | {"group.id": settings.describer.group_id, "enable.auto.commit": False}
        )

    def __call__(self) -> int:
        """Records of the sweep topics the describers have not committed yet."""
        timeout = self._settings.kafka.connect_timeout_s
        metadata = self._admin.list_topics(timeout=timeout)
        tps = [
            (topic, partition)
            for topic in self._topics
            if topic in metadata.topics
            for partition in metadata.topics[topic].partitions
        ]
        committed = {
            (tp.topic, tp.partition): tp.offset
            for tp in self._committed([TopicPartition(t, p) for t, p in tps], timeout)
            if tp.error is None and tp.offset >= 0
        }
        ends = kafka_admin.partition_offsets(self._admin, tps, timeout)
        return sum(
            pending_records(committed.get(tp), ends[tp].low, ends[tp].stable, caught_up=False)
            for tp in tps
            if tp in ends
        )

    def _committed(self, tps: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        # A group's coordinator answers NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS while it
        # moves or loads (always right after the group is first used): ask again shortly.
        for attempt in range(COORDINATOR_ATTEMPTS):
            try:
                return list(self._offsets_reader.committed(tps, timeout=timeout))
            except KafkaException as exc:
                error = exc.args[0]
                retry = error.retriable() or error.code() in COORDINATOR_MOVING
                if not retry or attempt == COORDINATOR_ATTEMPTS - 1:
                    raise
                time.sleep(0.5)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Leave nothing open (the reader never joined the group)."""
        self._offsets_reader.close()
