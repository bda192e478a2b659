"""The long-running planner on the real stack: holds back under a describer backlog, issues due
shards at their cadence, skips shards still in flight, and exports the inventory's age.

The planner runs in this process with a clock the test moves forward (real time plus an
offset), so cadences of seconds are exercised without waiting for them; Kafka, DynamoDB Local,
moto and the describer and sink processes are real.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, start_http_server

from devstack import StackEndpoints
from devstack.seed import EstateSpec, seed_estate
from fleetstream.base.config import Settings
from fleetstream.inventory.sweeps import SweepProgress
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.workers import WorkerPool, free_port
from producers.backlog import DescriberBacklog
from producers.continuous import build
from tests.dashboards import load, queries_without_data, row_panels
from tests.integration.helpers import produce_raw, read_topic, settings_for
from tests.prometheus_fixtures import PrometheusFactory

pytestmark = pytest.mark.integration
REGIONS = ("us-east-1", "eu-west-1")
CADENCE_S = 30.0
STALE_AFTER = 10


def decided(decision: str) -> float:
    value = REGISTRY.get_sample_value(
        "fleetstream_planner_shards_total",
        {"resource_type": "ec2.instance", "decision": decision},
    )
    return value or 0.0


def gauge(name: str, labels: dict[str, str] | None = None) -> float | None:
    return REGISTRY.get_sample_value(name, labels or {})


def wait_until(check: object, what: str, timeout_s: float = 90) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_cadence_in_flight_skips_and_backpressure(  # noqa: PLR0915 (one scenario, in order)
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
    prometheus_factory: PrometheusFactory,
) -> None:
    assert local_stack.aws_endpoint
    estate = seed_estate(
        local_stack.aws_endpoint,
        EstateSpec(member_accounts=2, regions=REGIONS, instances_per_region=1, paged_region=None),
    )
    settings = settings_for(
        monkeypatch,
        estate,
        FLEETSTREAM_PLANNER__CADENCE_S=f'{{"default": {CADENCE_S}}}',
        FLEETSTREAM_PLANNER__JITTER="0.5",
        FLEETSTREAM_PLANNER__MAX_BACKLOG="2",
        FLEETSTREAM_PLANNER__STALE_AFTER_CADENCES=str(STALE_AFTER),
    )
    shards = len(estate.accounts) * len(REGIONS)
    kafka.ensure_topics(settings.kafka)
    offset = [0.0]
    planner = build(settings, clock=lambda: time.time() + offset[0])
    backlog = DescriberBacklog(settings)
    before = {d: decided(d) for d in ("issued", "skipped_in_flight", "deferred_backlog")}
    pool = WorkerPool(None, log_dir)
    try:
        # 1. Five unread records on the work topic: the planner holds every due shard back.
        produce_raw(settings, settings.kafka.topic("work"), [(b"x", b"not a work item")] * 5)
        assert planner.tick() == []  # learns the estate: first due times over 0.5 x cadence
        offset[0] = CADENCE_S  # every first due time has passed
        assert planner.tick() == []
        assert decided("deferred_backlog") - before["deferred_backlog"] == shards
        assert gauge("fleetstream_planner_backpressure") == 1
        assert gauge("fleetstream_planner_backlog_messages") == 5

        # 2. A describer drains it (the junk goes to the DLQ); no sink yet, so what the
        # planner issues now stays in flight: no outcome can be recorded.
        pool.start("describer", 1)
        wait_until(lambda: backlog() <= 2, "the describer to drain the backlog")
        first = planner.tick()
        assert len(first) == 1
        assert decided("issued") - before["issued"] == shards
        assert gauge("fleetstream_planner_backpressure") == 0

        # 3. One cadence later every shard is still in flight: skipped, nothing issued.
        offset[0] += CADENCE_S
        assert planner.tick() == []
        assert decided("skipped_in_flight") - before["skipped_in_flight"] == shards
        assert (
            gauge("fleetstream_planner_in_flight_shards", {"resource_type": "ec2.instance"})
            == shards
        )

        # 4. With a sink the shards complete; the next slot issues all of them again.
        pool.start("sink", 1)
        progress: list[SweepProgress] = []

        def finished() -> bool:
            progress[:] = [planner._sweeps.progress(first[0])]
            return progress[0].finished

        wait_until(finished, "the first sweep to finish")
        assert not progress[0].failed
        offset[0] += CADENCE_S
        second = planner.tick()
        assert len(second) == 1
        assert decided("issued") - before["issued"] == 2 * shards
        wait_until(lambda: planner._sweeps.progress(second[0]).finished, "the second sweep")
        # Collect the outcomes without issuing: while the test waited, real time may have
        # reached some shard's next slot (the clock jumped a whole cadence to issue them).
        planner._hold_back = lambda: True  # type: ignore[method-assign]
        planner.tick()
        age = gauge("fleetstream_inventory_age_seconds", {"resource_type": "ec2.instance"})
        # Outcomes carry real time, the planner's clock is ahead by the offset.
        assert age is not None and offset[0] <= age < offset[0] + CADENCE_S
        assert gauge("fleetstream_inventory_stale_shards", {"resource_type": "ec2.instance"}) == 0
    finally:
        pool.stop()
        backlog.close()

    # Exactly the issued first pages reached the work topic: 2 sweeps x shards, no more.
    work = [m for m in read_topic(settings, settings.kafka.topic("work")) if m.key() != b"x"]
    assert len(work) == 2 * shards
    # 5. Nothing completes for longer than the stale limit: every shard is stale.
    offset[0] += STALE_AFTER * CADENCE_S
    planner.tick()
    assert gauge("fleetstream_inventory_stale_shards", {"resource_type": "ec2.instance"}) == shards

    # The planner's metrics (this process) behind a real Prometheus: every query of the
    # dashboard's planner row has data.
    port = free_port()
    server, _thread = start_http_server(port, addr="127.0.0.1")
    try:
        prom = prometheus_factory({"planner": [f"127.0.0.1:{port}"]})
        dashboard = load("fleetstream-continuous.json")
        chosen = row_panels(dashboard, "Scheduled sweeps (fleetstream planner)")
        prom.wait_until(
            "the planner panels to have data",
            lambda: not queries_without_data(prom, dashboard, chosen),
        )
    finally:
        server.shutdown()
