"""How much unread work the describer group has: the planner's backpressure signal."""

from __future__ import annotations

from confluent_kafka.admin import AdminClient

from consumers.lag.status import pending_records
from fleetstream import kafka_admin
from fleetstream.config import Settings

# The topics of sweep work (targeted refreshes have their own topic and do not count).
SWEEP_TOPICS = ("work", "work-retry")


class DescriberBacklog:
    """Reads the describer group's committed offsets and the sweep topics' ends."""

    def __init__(self, settings: Settings, admin: AdminClient | None = None) -> None:
        self._settings = settings
        self._admin = admin or kafka_admin.admin_client(settings.kafka)
        self._topics = [settings.kafka.topic(name) for name in SWEEP_TOPICS]

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
        group = self._settings.describer.group_id
        committed = kafka_admin.committed_offsets(self._admin, group, timeout)
        ends = kafka_admin.partition_offsets(self._admin, tps, timeout)
        return sum(
            pending_records(committed.get(tp), ends[tp].low, ends[tp].stable, caught_up=False)
            for tp in tps
            if tp in ends
        )
