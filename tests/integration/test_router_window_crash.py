"""A router SIGKILLed while its coalescing window holds an event loses nothing (issue 13,
hole 3): the event's offset is committed only with the window's refreshes, so the restarted
router reads the event again and the refresh still happens."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devstack import StackEndpoints
from devstack.seed import SEED_AMI, EstateSpec, seed_estate
from fleetstream.apps.lambda_mode.forward import forward
from fleetstream.base.config import Settings
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.workers import WorkerPool
from fleetstream.serde.wire import ChangeType
from tests.integration.group_offsets import committed_offsets, wait_until
from tests.integration.helpers import member_client, read_topic, settings_for, start_event_pipeline
from tests.integration.test_events import REGION, ChangeWatcher, cloudtrail_event, items, samples

pytestmark = pytest.mark.integration
# Long enough that the kill below lands inside the window however loaded the machine is.
WINDOW_S = 15.0


def routed(metrics_url: str) -> float:
    return sum(
        value
        for labels, value in samples(metrics_url, "fleetstream_events_total")
        if labels["outcome"] == "routed"
    )


def test_a_router_killed_inside_its_window_still_refreshes(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
    measurements: list[str],
) -> None:
    assert local_stack.aws_endpoint
    estate = seed_estate(
        local_stack.aws_endpoint,
        EstateSpec(member_accounts=1, regions=(REGION,), instances_per_region=1, paged_region=None),
    )
    account = estate.accounts[0].account_id
    settings = settings_for(
        monkeypatch, estate, FLEETSTREAM_ROUTER__COALESCE_WINDOW_S=str(WINDOW_S)
    )
    kafka.ensure_topics(settings.kafka)
    events_topic = settings.kafka.topic("events")
    pool = WorkerPool(None, log_dir)
    watcher: ChangeWatcher | None = None
    try:
        start_event_pipeline(pool, settings)
        # After the workers created the topics' leaders (a watcher reads from the ends).
        watcher = ChangeWatcher(settings)
        ec2 = member_client(local_stack.aws_endpoint, account, "ec2", REGION)
        instance = ec2.run_instances(ImageId=SEED_AMI, MinCount=1, MaxCount=1)["Instances"][0][
            "InstanceId"
        ]
        producer = kafka.make_producer(settings.kafka)
        event = cloudtrail_event(
            account,
            "RunInstances",
            {"responseElements": {"instancesSet": items(instance)}},
            datetime.now(UTC),
        )
        forward(settings, producer, json.loads(event))
        router = next(w for w in pool.workers if w.role == "router")
        wait_until(lambda: routed(router.metrics_url) == 1, "the router to route the event")
        # The event now sits in the open window. Give the idle loop (a poll every 0.5 s) time
        # to commit positions several times over, as it did before the fix; then kill.
        time.sleep(3)
        router.process.kill()
        router.process.wait()
        (message,) = read_topic(settings, events_topic, idle_s=1)
        committed = committed_offsets(settings, settings.router.group_id, events_topic)
        measurements.append(
            f"router killed inside its window: event at offset {message.offset()}, "
            f"committed {committed[message.partition()]}"
        )
        assert committed[message.partition()] <= message.offset(), committed

        pool.restart(router)
        change, _at = watcher.wait_for(
            lambda c: c.change_type is ChangeType.CREATED and c.resource_id == instance,
            timeout_s=WINDOW_S + 90,
        )
        assert change.account_id == account
    finally:
        if watcher is not None:
            watcher.close()
        pool.stop()
