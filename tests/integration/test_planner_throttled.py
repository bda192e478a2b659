"""A throttled AWS Organizations slows the long-running planner, it never stops it (issue 13,
hole 6): ListAccounts answers TooManyRequestsException (the fault layer in front of moto) over
and over; the `fleetstream planner` process keeps running, backs off, and plans once
Organizations answers again. A permanent error once the estate is known (access denied) is
reported, and the planner keeps planning the last known estate."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from devstack import StackEndpoints
from devstack.seed import EstateSpec, seed_estate
from fleetstream.base.config import Settings
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.workers import WorkerPool
from fleetstream.serde.wire import decode_work_item
from tests.integration.group_offsets import wait_until
from tests.integration.helpers import aws_calls, read_topic, set_faults, settings_for
from tests.integration.test_events import samples

pytestmark = pytest.mark.integration
REGION = "us-east-1"
THROTTLED_LOOKUPS = 3  # the planner's own attempts, each of aws.max_attempts HTTP calls


def test_a_throttled_organization_never_stops_the_planner(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
    measurements: list[str],
) -> None:
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate = seed_estate(
        endpoint,
        EstateSpec(member_accounts=1, regions=(REGION,), instances_per_region=1, paged_region=None),
    )
    account = estate.accounts[0].account_id
    settings = settings_for(
        monkeypatch,
        estate,
        FLEETSTREAM_PLANNER__JITTER="0",  # every shard due at once
        FLEETSTREAM_PLANNER__TICK_S="0.5",
        FLEETSTREAM_PLANNER__ESTATE_REFRESH_S="1",  # look again every second once known
    )
    kafka.ensure_topics(settings.kafka)
    attempts = THROTTLED_LOOKUPS * settings.aws.max_attempts
    since = time.time()

    def throttled() -> int:
        return sum(
            1
            for call in aws_calls(endpoint)
            if call["action"] == "ListAccounts"
            and call.get("injected") == "TooManyRequestsException"
            and call["at"] >= since
        )

    def fail_list_accounts(code: str) -> None:
        rule = {"action": "ListAccounts", "rate": 1.0, "code": code, "status": 400}
        set_faults(endpoint, {"errors": [rule]})

    def estate_errors() -> dict[str, float]:
        return {
            labels["kind"]: value
            for labels, value in samples(
                planner.metrics_url, "fleetstream_planner_estate_errors_total"
            )
        }

    pool = WorkerPool(None, log_dir)
    fail_list_accounts("TooManyRequestsException")
    try:
        pool.start("planner", 1)
        (planner,) = pool.workers
        wait_until(
            lambda: planner.process.poll() is not None or throttled() >= attempts,
            f"{attempts} throttled ListAccounts calls",
        )
        measurements.append(
            f"planner under throttled ListAccounts: {throttled()} throttled calls, "
            f"exit code {planner.process.poll()}"
        )
        assert planner.process.poll() is None, planner.tail(20)
        set_faults(endpoint, {})

        def planned() -> bool:
            work = read_topic(settings, settings.kafka.topic("work"), idle_s=1)
            return any(decode_work_item(m.value()).account_id == account for m in work)

        wait_until(planned, "the planner to plan once Organizations answers")
        assert estate_errors().get("throttled", 0) >= THROTTLED_LOOKUPS, estate_errors()

        # Access denied once the estate is known: reported, the process goes on.
        fail_list_accounts("AccessDeniedException")
        wait_until(
            lambda: planner.process.poll() is not None or "permanent" in estate_errors(),
            "a permanent lookup error to be reported",
        )
        assert planner.process.poll() is None, planner.tail(20)
    finally:
        set_faults(endpoint, {})
        pool.stop()
