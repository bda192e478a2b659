"""Prometheus metrics of every fleetstream process, and the /metrics server."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from fleetstream.base.config import MetricsSettings

if TYPE_CHECKING:
    from fleetstream.inventory.sweeps import SweepProgress

log = logging.getLogger(__name__)

MESSAGES = Counter(
    "fleetstream_messages_processed_total",
    "Messages a consumer group finished processing.",
    ["group", "topic"],
)
ERRORS = Counter(
    "fleetstream_errors_total",
    "Errors by kind (poison, handler, refused, kafka, aws, dynamodb).",
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
NOTIFIER_POSTS = Counter(
    "fleetstream_notifier_posts_total",
    "Webhook requests of the notifier by outcome (posted, retried, rate_limited, rejected).",
    ["outcome"],
)
NOTIFIER_CHANGES = Counter(
    "fleetstream_notifier_changes_posted_total",
    "Distinct changes in the digests the notifier posted.",
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
SINK_UNCHANGED = Counter(
    "fleetstream_sink_unchanged_skipped_total",
    "Observations of unchanged live items not written again (their seen mark is the evidence).",
    ["table"],
)
SINK_WRITE_UNITS = Counter(
    "fleetstream_sink_write_units_total",
    "Write capacity units DynamoDB reported for the sink's writes (inventory and seen marks).",
    ["table"],
)
SINK_SEEN_MARKS = Counter(
    "fleetstream_sink_seen_marks_total",
    "Seen marks written: one per (shard, sweep, observation time) group of a batch.",
    ["table"],
)
SINK_FUTURE_REFUSED = Counter(
    "fleetstream_sink_future_refused_total",
    "Records whose times are beyond the sink's clock plus sink.future_tolerance_s, by kind "
    "(observation: dead-lettered; outcome: recorded as FAILED with ClockSkew).",
    ["kind"],
)
SINK_PLANNER_REFUSED = Counter(
    "fleetstream_sink_planner_refused_total",
    "Records on plan-outcomes that the planner may not write (an observation, a COMPLETE "
    "outcome), dead-lettered; by kind.",
    ["kind"],
)
SINK_RESOURCES_REFUSED = Counter(
    "fleetstream_sink_resources_refused_total",
    "Records on resources that only the planner may write (an ACCOUNT_GONE outcome), "
    "dead-lettered; by kind.",
    ["kind"],
)
SINK_BATCH_SECONDS = Histogram(
    "fleetstream_sink_batch_seconds",
    "Time to write one batch to DynamoDB.",
    ["table"],
)
ACTION_STEPS = Counter(
    "fleetstream_action_steps_total",
    "Action steps finished by the actor, by action, step and status (duplicates included).",
    ["action", "step", "status"],
)
ACTION_OUTCOMES = Counter(
    "fleetstream_action_outcomes_total",
    "Per-resource outcomes of actions acted on (OK, SKIPPED, FAILED); not duplicates.",
    ["action", "status"],
)
ACTION_RETRIES = Counter(
    "fleetstream_action_retries_total",
    "Action steps sent to action-delay because they were throttled or failed transiently.",
    ["action"],
)
TOMBSTONES = Counter(
    "fleetstream_tombstones_total",
    "Resources marked deleted after their shard completed without seeing them.",
    ["resource_type"],
)
DETAIL_CALLS_REFUSED = Counter(
    "fleetstream_detail_calls_refused_total",
    "Items kept without a detail because AWS refused the detail call (access denied), by type, "
    "operation and error code; the item is marked in fleetstream:detail_errors.",
    ["resource_type", "operation", "code"],
)
DELETIONS_WITHHELD = Counter(
    "fleetstream_deletions_withheld_total",
    "COMPLETE shard outcomes that deleted nothing for want of evidence, by reason "
    "(no_described_from: written by an older describer; evidence_expired: the shard started "
    "longer ago than the seen marks are kept; refused_observation: an observation of that "
    "shard and sweep was refused as future-dated).",
    ["reason"],
)
OUTCOME_CHUNKS = Counter(
    "fleetstream_sink_outcome_chunks_total",
    "Chunks of outcome work (at most sink.outcome_chunk_size items each) the sink finished, by "
    "kind (tombstone, gone_account; stale and account_gone: FAILED and ACCOUNT_GONE outcomes' "
    "retirements); the group is served between every two writes.",
    ["kind"],
)
TOMBSTONE_CONFLICTS = Counter(
    "fleetstream_tombstone_conflicts_total",
    "Tombstones not written because the item changed after it was selected (a newer write).",
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


_ACCOUNT_LABELS = {"enabled": False}


def account_label(account: str) -> str:
    """The account label value: the id with metrics.account_labels on, else '*'.

    With thousands of accounts, per-account series multiply every AWS metric; they are opt-in.
    """
    return account if _ACCOUNT_LABELS["enabled"] else "*"


def serve(settings: MetricsSettings) -> int:
    """Start the /metrics HTTP server on a daemon thread; return the bound port."""
    _ACCOUNT_LABELS["enabled"] = settings.account_labels
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


# --- Pipeline metrics of issue 5 (observability): AWS calls, sweeps, sink, rebalances. ---
# Series are created on first use; docs/observability.md lists every metric and its panel.

AWS_CALLS = Counter(
    "fleetstream_aws_api_calls_total",
    "AWS API calls (after botocore's retries); account is 'hub' for fleetstream's own identity.",
    ["service", "operation", "account", "region"],
)
AWS_THROTTLES = Counter(
    "fleetstream_aws_api_throttles_total",
    "AWS API attempts answered with a throttling error code (each retry counts).",
    ["service", "operation", "account", "region"],
)
AWS_ERRORS = Counter(
    "fleetstream_aws_api_errors_total",
    "AWS API calls that failed after botocore's retries (error response or connection error).",
    ["service", "operation", "account", "region"],
)
AWS_ERROR_CODES = Counter(
    "fleetstream_aws_api_error_codes_total",
    "Failed AWS API calls by error code (no account/region: codes x operations stay bounded).",
    ["service", "operation", "code"],
)
AWS_CALL_SECONDS = Histogram(
    "fleetstream_aws_api_call_seconds",
    "Latency of one AWS API call including botocore's retries and backoff.",
    ["service", "operation", "region"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CREDENTIAL_REFRESHES = Counter(
    "fleetstream_aws_credential_refreshes_total",
    "AssumeRole credential fetches for member accounts (first fetch and each refresh).",
    ["outcome"],
)
SWEEP_SHARDS = Gauge(
    "fleetstream_sweep_shards",
    "Shards of the sweep this process runs, by state (total, complete, failed, pending).",
    ["sweep_id", "state"],
)
SWEEP_RESOURCES = Gauge(
    "fleetstream_sweep_resources",
    "Resources of the sweep's complete shards.",
    ["sweep_id"],
)
SWEEP_ACCOUNT_FAILED = Gauge(
    "fleetstream_sweep_account_failed_shards",
    "Failed shards of the sweep per account and region (only those with a failure).",
    ["sweep_id", "account", "region"],
)
SWEEP_ELAPSED = Gauge(
    "fleetstream_sweep_elapsed_seconds",
    "Seconds since the sweep was issued (frozen once it finished).",
    ["sweep_id"],
)
SWEEP_DURATION = Histogram(
    "fleetstream_sweep_duration_seconds",
    "Duration of finished sweeps.",
    buckets=(30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400),
)
SWEEP_LAST_COMPLETED = Gauge(
    "fleetstream_sweep_last_completed_timestamp_seconds",
    "When the last sweep this process ran finished with every shard accounted for (epoch s).",
)
SINK_DYNAMODB_SECONDS = Histogram(
    "fleetstream_sink_dynamodb_seconds",
    "Latency of one DynamoDB request of the sink (BatchWriteItem, BatchGetItem).",
    ["table", "operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SINK_UNPROCESSED = Counter(
    "fleetstream_sink_unprocessed_items_total",
    "Items or keys DynamoDB returned as unprocessed (to be retried) to the sink.",
    ["table", "operation"],
)
REBALANCES = Counter(
    "fleetstream_consumer_rebalances_total",
    "Partition assignment changes seen by a consumer, by kind (assign, revoke, lost).",
    ["group", "kind"],
)

_sweep_lock = threading.Lock()
_sweep_seen: dict[str, float] = {}  # sweep id -> monotonic time first exported
_sweep_done: set[str] = set()
_sweep_series: dict[str, set[tuple[Gauge, tuple[str, ...]]]] = {}


def _set(gauge: Gauge, labels: tuple[str, ...], value: float) -> None:
    gauge.labels(*labels).set(value)
    _sweep_series.setdefault(labels[0], set()).add((gauge, labels))


def export_sweep_progress(progress: SweepProgress, elapsed_s: float | None = None) -> None:
    """Export a sweep's progress; call it on every progress poll of `fleetstream sweep`.

    elapsed_s defaults to the time since the first call for this sweep. Only the latest sweep
    keeps series: exporting a new sweep id drops the previous one's.
    """
    sweep_id = progress.sweep_id
    with _sweep_lock:
        for old in [s for s in _sweep_seen if s != sweep_id]:
            _drop_sweep(old)
        first = _sweep_seen.setdefault(sweep_id, time.monotonic())
        if sweep_id in _sweep_done:
            return
        elapsed = time.monotonic() - first if elapsed_s is None else elapsed_s
        failed = progress.failed
        if progress.total_shards is not None:
            _set(SWEEP_SHARDS, (sweep_id, "total"), progress.total_shards)
            pending = max(progress.total_shards - len(progress.shards), 0)
            _set(SWEEP_SHARDS, (sweep_id, "pending"), pending)
        _set(SWEEP_SHARDS, (sweep_id, "complete"), len(progress.shards) - len(failed))
        _set(SWEEP_SHARDS, (sweep_id, "failed"), len(failed))
        _set(SWEEP_RESOURCES, (sweep_id,), progress.resources)
        per_place: dict[tuple[str, str], int] = {}
        for shard in failed:
            place = (shard.account_id, shard.region)
            per_place[place] = per_place.get(place, 0) + 1
        for (account, region), count in per_place.items():
            _set(SWEEP_ACCOUNT_FAILED, (sweep_id, account, region), count)
        _set(SWEEP_ELAPSED, (sweep_id,), elapsed)
        if progress.finished:
            _sweep_done.add(sweep_id)
            SWEEP_DURATION.observe(elapsed)
            SWEEP_LAST_COMPLETED.set_to_current_time()


def _drop_sweep(sweep_id: str) -> None:
    del _sweep_seen[sweep_id]
    _sweep_done.discard(sweep_id)
    for gauge, labels in _sweep_series.pop(sweep_id, set()):
        with contextlib.suppress(KeyError):
            gauge.remove(*labels)
