"""The lag exporter's metrics: the latest Snapshot rendered on the exporter's own registry.

A custom collector renders the snapshot at scrape time, so a partition or group that is no
longer watched simply disappears instead of lingering as a stale series.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from consumers.lag.collector import Snapshot
from consumers.lag.status import time_lag_s

GROUP_STATES = (
    "STABLE",
    "EMPTY",
    "PREPARING_REBALANCING",
    "COMPLETING_REBALANCING",
    "DEAD",
    "UNKNOWN",
)
_GTP = ["group", "topic", "partition"]
_TP = ["topic", "partition"]


class SnapshotCollector(Collector):
    """Renders the most recent Snapshot as fleetstream_lag_* gauges."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None

    def update(self, snapshot: Snapshot) -> None:
        """Replace what the next scrape shows."""
        with self._lock:
            self._snapshot = snapshot

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            snapshot = self._snapshot
        if snapshot is None:
            return
        fams = {
            "committed": GaugeMetricFamily(
                "fleetstream_lag_committed_offset",
                "Committed offset of the group on the partition (absent when never committed).",
                labels=_GTP,
            ),
            "offsets": GaugeMetricFamily(
                "fleetstream_lag_offsets",
                "Records the group still has to read: last stable offset - committed offset, "
                "0 when only transaction markers are left.",
                labels=_GTP,
            ),
            "seconds": GaugeMetricFamily(
                "fleetstream_lag_seconds",
                "Age of the oldest unread record (its timestamp at the committed offset), "
                "0 when caught up.",
                labels=_GTP,
            ),
            "p_committed": GaugeMetricFamily(
                "fleetstream_lag_partition_committed",
                "1 if the group has a committed offset on the partition, else 0.",
                labels=_GTP,
            ),
            "p_owned": GaugeMetricFamily(
                "fleetstream_lag_partition_owned",
                "1 if a member of the group owns the partition right now, else 0.",
                labels=_GTP,
            ),
            "p_status": GaugeMetricFamily(
                "fleetstream_lag_partition_status",
                "Partition status: 0 OK, 1 WARN, 2 REWIND, 3 STALL, 4 STOP.",
                labels=_GTP,
            ),
            "low": GaugeMetricFamily(
                "fleetstream_lag_low_watermark", "Earliest retained offset.", labels=_TP
            ),
            "high": GaugeMetricFamily(
                "fleetstream_lag_high_watermark", "Offset of the next record written.", labels=_TP
            ),
            "stable": GaugeMetricFamily(
                "fleetstream_lag_last_stable_offset",
                "First offset of a still-open transaction (the high watermark when none is open).",
                labels=_TP,
            ),
            "g_status": GaugeMetricFamily(
                "fleetstream_lag_group_status",
                "Worst partition status of the group: 0 OK, 1 WARN, 2 REWIND, 3 STALL, 4 STOP.",
                labels=["group"],
            ),
            "g_committed": GaugeMetricFamily(
                "fleetstream_lag_group_committed",
                "1 if the group has committed an offset on any partition, else 0.",
                labels=["group"],
            ),
            "g_members": GaugeMetricFamily(
                "fleetstream_lag_group_members", "Members of the group.", labels=["group"]
            ),
            "g_state": GaugeMetricFamily(
                "fleetstream_lag_group_state",
                "1 for the group's current coordinator state, 0 for the others.",
                labels=["group", "state"],
            ),
            "g_max_seconds": GaugeMetricFamily(
                "fleetstream_lag_group_max_seconds",
                "Largest time lag of any partition of the group.",
                labels=["group"],
            ),
        }
        seen_tp: set[tuple[str, int]] = set()
        for group in snapshot.groups:
            name = group.info.group
            worst = 0.0
            for view in group.partitions:
                labels = [name, view.topic, str(view.partition)]
                sample = view.sample
                if sample.committed is not None:
                    fams["committed"].add_metric(labels, sample.committed)
                fams["offsets"].add_metric(labels, sample.pending)
                seconds = time_lag_s(sample)
                if seconds is not None:
                    fams["seconds"].add_metric(labels, seconds)
                    worst = max(worst, seconds)
                fams["p_committed"].add_metric(labels, 0 if sample.committed is None else 1)
                fams["p_owned"].add_metric(labels, 1 if sample.owned else 0)
                fams["p_status"].add_metric(labels, int(view.status))
                if (view.topic, view.partition) not in seen_tp:
                    seen_tp.add((view.topic, view.partition))
                    tp_labels = [view.topic, str(view.partition)]
                    fams["low"].add_metric(tp_labels, view.offsets.low)
                    fams["high"].add_metric(tp_labels, view.offsets.high)
                    fams["stable"].add_metric(tp_labels, view.offsets.stable)
            fams["g_status"].add_metric([name], int(group.status))
            fams["g_committed"].add_metric([name], 1 if group.committed else 0)
            fams["g_members"].add_metric([name], group.info.members)
            fams["g_max_seconds"].add_metric([name], worst)
            for state in GROUP_STATES:
                fams["g_state"].add_metric([name, state], 1 if group.info.state == state else 0)
        yield from fams.values()


class ExporterMetrics:
    """The exporter's registry: the snapshot plus the exporter's own health."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.snapshot = SnapshotCollector()
        self.registry.register(self.snapshot)
        self.polls = Counter(
            "fleetstream_lag_polls_total",
            "Polls of Kafka by outcome (ok, error).",
            ["outcome"],
            registry=self.registry,
        )
        self.poll_seconds = Histogram(
            "fleetstream_lag_poll_seconds",
            "Time one poll of every watched group took.",
            registry=self.registry,
        )
        self.last_success = Gauge(
            "fleetstream_lag_last_success_timestamp_seconds",
            "When the last poll succeeded (epoch seconds).",
            registry=self.registry,
        )
        for outcome in ("ok", "error"):
            self.polls.labels(outcome)
