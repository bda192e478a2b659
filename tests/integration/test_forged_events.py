"""Forged and flooding events do no harm and genuine events still refresh (issue 14, item 4).

Two member accounts: a sandbox that misbehaves and a production account. On the events topic:
a copy of an event whose envelope account is the sandbox but whose recipientAccountId names a
production instance; an event dated 2099 and one ten days old naming production instances;
and a flood of 3,000 instance ids from the sandbox. Then genuine events for the production
instances: they refresh, the forged ones never did, and the sandbox's ids per window stay
within router.account_budget.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from devstack import StackEndpoints
from devstack.seed import SEED_AMI, EstateSpec, seed_estate
from fleetstream.apps.lambda_mode.forward import forward
from fleetstream.base.config import Settings
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.workers import WorkerPool
from fleetstream.serde.wire import ChangeEvent, decode_work_item
from tests.integration.group_offsets import caught_up, wait_until
from tests.integration.helpers import member_client, read_topic, settings_for, start_event_pipeline
from tests.integration.test_events import REGION, ChangeWatcher, cloudtrail_event, items, samples

pytestmark = pytest.mark.integration
FLOOD_IDS = 3000
IDS_PER_EVENT = 100


def event(account: str, name: str, detail: dict[str, Any], at: datetime) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(cloudtrail_event(account, name, detail, at))
    return decoded


def tagged(instance: str) -> dict[str, Any]:
    return {"requestParameters": {"resourcesSet": items(instance, key="resourceId")}}


def test_forged_and_flooding_events_do_no_harm(  # noqa: PLR0915 (one scenario, in order)
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
        EstateSpec(member_accounts=2, regions=(REGION,), instances_per_region=1, paged_region=None),
    )
    sandbox, production = (a.account_id for a in estate.accounts)
    settings = settings_for(monkeypatch, estate)
    budget = settings.router.account_budget
    kafka.ensure_topics(settings.kafka)
    ec2 = member_client(endpoint, production, "ec2", REGION)
    launched = ec2.run_instances(ImageId=SEED_AMI, MinCount=3, MaxCount=3)["Instances"]
    foreign_target, future_target, old_target = (i["InstanceId"] for i in launched)
    pool = WorkerPool(None, log_dir)
    producer = kafka.make_producer(settings.kafka)
    watcher: ChangeWatcher | None = None
    try:
        start_event_pipeline(pool, settings)
        # After the workers created the topics' leaders (a watcher reads from the ends).
        watcher = ChangeWatcher(settings)
        router = next(w for w in pool.workers if w.role == "router")
        now = datetime.now(UTC)

        # The forgeries.
        foreign = event(production, "CreateTags", tagged(foreign_target), now)
        foreign["account"] = sandbox  # the sandbox's copy of a call on a production resource
        forward(settings, producer, foreign)
        future = datetime(2099, 1, 1, tzinfo=UTC)
        forward(settings, producer, event(production, "CreateTags", tagged(future_target), future))
        old = now - timedelta(days=10)
        forward(settings, producer, event(production, "CreateTags", tagged(old_target), old))
        flood_ids = [f"i-{n:017x}" for n in range(FLOOD_IDS)]
        for start in range(0, FLOOD_IDS, IDS_PER_EVENT):
            chunk = flood_ids[start : start + IDS_PER_EVENT]
            forward(
                settings,
                producer,
                event(
                    sandbox,
                    "CreateTags",
                    {"requestParameters": {"resourcesSet": items(*chunk, key="resourceId")}},
                    now,
                ),
            )
        # Everything forged is routed (or refused) and described before the genuine changes,
        # so a refresh the forgeries caused cannot pick up the genuine tags by chance.
        wait_until(
            lambda: caught_up(settings, settings.router.group_id, settings.kafka.topic("events")),
            "the router to read every forged event",
        )
        wait_until(
            lambda: caught_up(
                settings, settings.describer.group_id, settings.kafka.topic("refresh")
            ),
            "the describer to read every refresh",
        )

        # The genuine changes and their events.
        ec2.create_tags(
            Resources=[foreign_target, future_target], Tags=[{"Key": "Env", "Value": "genuine"}]
        )
        genuine_at = datetime.now(UTC)
        for target in (foreign_target, future_target):
            forward(settings, producer, event(production, "CreateTags", tagged(target), genuine_at))

        def genuine_change(instance: str) -> ChangeEvent | None:
            try:
                change, _at = watcher.wait_for(
                    lambda c: c.resource_id == instance and (c.tags or {}).get("Env") == "genuine",
                    timeout_s=90,
                )
            except AssertionError:
                return None
            return change

        refreshed = {t: genuine_change(t) is not None for t in (foreign_target, future_target)}
        outcomes = {
            labels["outcome"]: value
            for labels, value in samples(router.metrics_url, "fleetstream_events_total")
        }
        shed = sum(v for _l, v in samples(router.metrics_url, "fleetstream_refresh_ids_shed_total"))
    finally:
        if watcher is not None:
            watcher.close()
        pool.stop()

    work = [
        decode_work_item(m.value()) for m in read_topic(settings, settings.kafka.topic("refresh"))
    ]
    forged_refreshes = [
        (item.resource_ids, item.triggered_at)
        for item in work
        if item.account_id == production
        and item.triggered_at is not None
        and item.triggered_at
        < genuine_at.replace(microsecond=genuine_at.microsecond // 1000 * 1000)
    ]
    sandbox_ids_per_window = Counter[str]()
    for item in work:
        if item.account_id == sandbox:
            sandbox_ids_per_window[item.sweep_id] += len(item.resource_ids or ())
    sandbox_ids = sum(sandbox_ids_per_window.values())
    most = max(sandbox_ids_per_window.values(), default=0)
    measurements.append(
        f"forged events: genuine refreshed {refreshed}; production refreshes by forgeries "
        f"{len(forged_refreshes)}; sandbox ids refreshed {sandbox_ids} of {FLOOD_IDS} in "
        f"{len(sandbox_ids_per_window)} windows (max {most} per window, budget {budget}), "
        f"shed {shed:.0f}; outcomes {outcomes}"
    )
    assert refreshed == {foreign_target: True, future_target: True}
    assert forged_refreshes == []
    assert outcomes.get("foreign_account") == 1
    assert outcomes.get("future") == 1
    assert outcomes.get("too_old") == 1
    assert most <= budget
    assert sandbox_ids + shed == FLOOD_IDS
