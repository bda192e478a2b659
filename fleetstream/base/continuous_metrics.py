"""Metrics of continuous inventory: the long-running planner and event-driven refresh."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter(
    "fleetstream_events_total",
    "AWS events read by the event router, by outcome "
    "(routed, coalesced, duplicate, over_budget, unknown, ignored, no_ids, not_configured, "
    "foreign_account, future, too_old, malformed).",
    ["outcome"],
)
REFRESH_WORK = Counter(
    "fleetstream_refresh_work_items_total",
    "Targeted refresh work items the event router emitted (after coalescing).",
    ["resource_type"],
)
REFRESH_IDS_SHED = Counter(
    "fleetstream_refresh_ids_shed_total",
    "Resource ids the event router did not refresh because their account had spent its "
    "router.account_budget for the window (the next sweep covers them).",
    ["resource_type"],
)
REFRESHES_DROPPED = Counter(
    "fleetstream_refreshes_dropped_total",
    "Targeted refreshes given up (the next sweep covers them), by error code.",
    ["resource_type", "error_code"],
)
FRESHNESS = Histogram(
    "fleetstream_event_to_change_seconds",
    "From an AWS event's time to the change event the sink emitted for it.",
    ["resource_type"],
    buckets=(0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 30, 60, 120, 300, 600),
)
PLANNER_SHARDS = Counter(
    "fleetstream_planner_shards_total",
    "Shards the long-running planner considered due, by decision "
    "(issued, skipped_in_flight, deferred_backlog, failed_at_plan, presumed_lost).",
    ["resource_type", "decision"],
)
PLANNER_ESTATE_ERRORS = Counter(
    "fleetstream_planner_estate_errors_total",
    "Failed account lookups (AWS Organizations) of the long-running planner, by kind: "
    "throttled and transient ones are retried with backoff, permanent ones reported; the last "
    "known estate is planned meanwhile.",
    ["kind"],
)
PLANNER_BACKLOG = Gauge(
    "fleetstream_planner_backlog_messages",
    "Unread messages of the describer group on the work topics, as the planner last saw them.",
)
PLANNER_HOLDING = Gauge(
    "fleetstream_planner_backpressure",
    "1 while the planner holds new sweeps back because the describers' backlog is too high.",
)
PLANNER_CADENCE = Gauge(
    "fleetstream_planner_cadence_seconds",
    "Configured sweep cadence per resource type.",
    ["resource_type"],
)
PLANNER_IN_FLIGHT = Gauge(
    "fleetstream_planner_in_flight_shards",
    "Shards issued and not finished yet.",
    ["resource_type"],
)
INVENTORY_AGE = Gauge(
    "fleetstream_inventory_age_seconds",
    "Oldest time since a shard of the type last completed a sweep (since the planner started, "
    "for shards that have not completed since).",
    ["resource_type"],
)
STALE_SHARDS = Gauge(
    "fleetstream_inventory_stale_shards",
    "Shards whose last complete sweep is older than planner.stale_after_cadences x cadence.",
    ["resource_type"],
)
SHARD_AGE = Gauge(
    "fleetstream_shard_inventory_age_seconds",
    "Time since a shard last completed a sweep (only with metrics.account_labels).",
    ["account", "region", "resource_type"],
)
