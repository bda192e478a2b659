"""Metrics of the expiry worker (the inventory table's stream reader), served on /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

STREAM_RECORDS = Counter(
    "fleetstream_expiry_stream_records_total",
    "Records read from the inventory table's DynamoDB Stream (every kind).",
)
REMOVALS = Counter(
    "fleetstream_expiry_removals_total",
    "Removed inventory items announced as DELETED changes and state tombstones, by reason "
    "(expired: DynamoDB's TTL; removed: anything else).",
    ["reason"],
)
REMOVALS_SKIPPED = Counter(
    "fleetstream_expiry_removals_skipped_total",
    "Removals not announced, by why (superseded: the item exists again, a later write).",
    ["why"],
)
STREAM_AGE = Gauge(
    "fleetstream_expiry_iterator_age_seconds",
    "Age of the newest record of the last read, the largest over open shards; 0 at the tip.",
)
STREAM_SHARDS = Gauge(
    "fleetstream_expiry_shards",
    "Stream shards by state (reading; waiting for their parent; done: closed and read).",
    ["state"],
)
STREAM_CHECKPOINT = Gauge(
    "fleetstream_expiry_last_checkpoint_timestamp_seconds",
    "When the reader last stored a position (epoch seconds).",
)
STREAM_TRIMMED = Counter(
    "fleetstream_expiry_trimmed_total",
    "Shards whose records after the checkpoint were trimmed before being read (a loss).",
)
