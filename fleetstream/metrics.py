"""Prometheus metrics of every fleetstream process, and the /metrics server."""

from __future__ import annotations

import contextlib
import json
import logging

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from fleetstream.config import MetricsSettings

log = logging.getLogger(__name__)

MESSAGES = Counter(
    "fleetstream_messages_processed_total",
    "Messages a consumer group finished processing.",
    ["group", "topic"],
)
ERRORS = Counter(
    "fleetstream_errors_total",
    "Errors by kind (poison, handler, kafka, aws, dynamodb).",
    ["group", "kind"],
)
DLQ = Counter(
    "fleetstream_dlq_messages_total",
    "Messages sent to the dead-letter topic.",
    ["group", "topic"],
)
PAGES = Counter(
    "fleetstream_pages_described_total",
    "Describe pages completed.",
    ["resource_type"],
)
RESOURCES = Counter(
    "fleetstream_resources_observed_total",
    "Resources observed by the describer.",
    ["resource_type"],
)
SHARDS = Counter(
    "fleetstream_shards_finished_total",
    "Shards finished, by status.",
    ["resource_type", "status"],
)
SINK_WRITES = Counter(
    "fleetstream_sink_items_written_total",
    "Items written to DynamoDB by the sink.",
    ["table"],
)
SINK_STALE = Counter(
    "fleetstream_sink_stale_observations_total",
    "Observations skipped because the table already held a newer one.",
    ["table"],
)
SINK_BATCH_SECONDS = Histogram(
    "fleetstream_sink_batch_seconds",
    "Time to write one batch to DynamoDB.",
    ["table"],
)
TOMBSTONES = Counter(
    "fleetstream_tombstones_total",
    "Resources marked deleted after their shard completed without seeing them.",
    ["resource_type"],
)
CONSUMER_LAG = Gauge(
    "fleetstream_consumer_lag",
    "Offset lag per partition (high watermark - committed offset), from librdkafka statistics.",
    ["group", "topic", "partition"],
)
COMMITTED_OFFSET = Gauge(
    "fleetstream_consumer_committed_offset",
    "Last committed offset per partition.",
    ["group", "topic", "partition"],
)
HIGH_WATERMARK = Gauge(
    "fleetstream_partition_high_watermark",
    "High watermark per partition as seen by the consumer.",
    ["group", "topic", "partition"],
)


def serve(settings: MetricsSettings) -> int:
    """Start the /metrics HTTP server on a daemon thread; return the bound port."""
    server, _thread = start_http_server(settings.port, addr=settings.host)
    port = int(server.server_port)
    log.info("metrics at http://%s:%d/metrics", settings.host, port)
    return port


def lag_stats_callback(group: str) -> LagStats:
    """A librdkafka stats_cb that exports per-partition lag of this consumer's assignment."""
    return LagStats(group)


class LagStats:
    """Parses librdkafka's statistics JSON into the lag gauges."""

    def __init__(self, group: str) -> None:
        self.group = group
        self._reported: set[tuple[str, str, str]] = set()

    def __call__(self, raw: str) -> None:
        try:
            stats = json.loads(raw)
        except ValueError:
            return
        reported: set[tuple[str, str, str]] = set()
        for topic, topic_stats in stats.get("topics", {}).items():
            for partition, p in topic_stats.get("partitions", {}).items():
                # -1 is librdkafka's internal UA partition; unassigned partitions report nothing.
                if partition == "-1" or p.get("fetch_state") not in {"active", "offset-query"}:
                    continue
                labels = (self.group, topic, partition)
                if self._export(labels, p):
                    reported.add(labels)
        # A partition that moved to another member is no longer ours to report.
        for labels in self._reported - reported:
            for gauge in (CONSUMER_LAG, COMMITTED_OFFSET, HIGH_WATERMARK):
                with contextlib.suppress(KeyError):
                    gauge.remove(*labels)
        self._reported = reported

    @staticmethod
    def _export(labels: tuple[str, str, str], p: dict[str, int]) -> bool:
        high = p.get("hi_offset", -1)
        committed = p.get("committed_offset", -1)
        if high < 0:
            return False
        HIGH_WATERMARK.labels(*labels).set(high)
        if committed >= 0:
            COMMITTED_OFFSET.labels(*labels).set(committed)
            CONSUMER_LAG.labels(*labels).set(max(high - committed, 0))
        else:
            # Never committed: the lag is everything retained, never a -1 sentinel.
            CONSUMER_LAG.labels(*labels).set(high - max(p.get("lo_offset", 0), 0))
        return True
