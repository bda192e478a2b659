"""Event-driven refresh on the real stack: a change in moto + its CloudTrail event on the events
topic -> the right change event on the changes topic, within seconds."""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from devstack import StackEndpoints
from devstack.seed import SEED_AMI, EstateSpec, seed_estate
from fleetstream.apps.lambda_mode.forward import forward
from fleetstream.apps.oneshot import run_sweep
from fleetstream.base.config import Settings
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.workers import WorkerPool
from fleetstream.serde.wire import ChangeEvent, ChangeType, decode_change_event, decode_work_item
from tests.dashboards import load, queries_without_data, row_panels
from tests.integration.helpers import (
    member_client,
    produce_raw,
    read_topic,
    settings_for,
    start_event_pipeline,
)
from tests.prometheus_fixtures import PrometheusFactory

pytestmark = pytest.mark.integration
REGION = "us-east-1"


class ChangeWatcher:
    """Reads the changes topic from 'now' on; waits for a change that matches."""

    def __init__(self, settings: Settings) -> None:
        topic = settings.kafka.topic("changes")
        self.consumer = Consumer(
            {
                "bootstrap.servers": settings.kafka.bootstrap_servers,
                "group.id": f"watcher-{time.time_ns()}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
            }
        )
        partitions = self.consumer.list_topics(topic, timeout=10).topics[topic].partitions
        starts = []
        for partition in partitions:
            _low, high = self.consumer.get_watermark_offsets(TopicPartition(topic, partition), 10)
            starts.append(TopicPartition(topic, partition, high))
        self.consumer.assign(starts)
        self.seen: list[tuple[ChangeEvent, float]] = []  # event, Kafka timestamp (s)

    def wait_for(
        self, match: Callable[[ChangeEvent], bool], timeout_s: float = 60
    ) -> tuple[ChangeEvent, float]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for seen in self.seen:
                if match(seen[0]):
                    return seen
            for message in self.consumer.consume(100, timeout=0.5):
                if message.error() is None:
                    self.seen.append(
                        (decode_change_event(message.value()), message.timestamp()[1] / 1000)
                    )
        raise AssertionError(f"no matching change in {timeout_s}s; saw {[c for c, _ in self.seen]}")

    def close(self) -> None:
        self.consumer.close()


def cloudtrail_event(
    account_id: str,
    name: str,
    detail: dict[str, Any],
    at: datetime,
    source: str = "ec2.amazonaws.com",
) -> bytes:
    """The EventBridge envelope of a CloudTrail management event, as the hub bus delivers it."""
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return json.dumps(
        {
            "version": "0",
            "id": f"evt-{time.time_ns()}",
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.ec2",
            "account": account_id,
            "time": stamp,
            "region": REGION,
            "resources": [],
            "detail": {
                "eventVersion": "1.08",
                "eventTime": stamp,
                "eventSource": source,
                "eventName": name,
                "awsRegion": REGION,
                "recipientAccountId": account_id,
                **detail,
            },
        }
    ).encode()


def samples(url: str, name: str) -> list[tuple[dict[str, str], float]]:
    """The samples of one metric a process exports."""
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def items(*ids: str, key: str = "instanceId") -> dict[str, Any]:
    return {"items": [{key: i} for i in ids]}


@pytest.fixture
def live_pipeline(
    local_stack: StackEndpoints, pipeline: Settings, monkeypatch: pytest.MonkeyPatch, log_dir: Path
) -> Iterator[tuple[Settings, str, WorkerPool]]:
    """One member account; a running describer, sink and event router."""
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate = seed_estate(
        endpoint,
        EstateSpec(member_accounts=1, regions=(REGION,), instances_per_region=1, paged_region=None),
    )
    settings = settings_for(monkeypatch, estate, FLEETSTREAM_ROUTER__COALESCE_WINDOW_S="1.0")
    kafka.ensure_topics(settings.kafka)
    pool = WorkerPool(None, log_dir)
    try:
        start_event_pipeline(pool, settings)
        yield settings, estate.accounts[0].account_id, pool
    finally:
        pool.stop()


def test_events_become_change_events_within_seconds(  # noqa: PLR0915 (one scenario, in order)
    live_pipeline: tuple[Settings, str, WorkerPool],
    local_stack: StackEndpoints,
    log_dir: Path,
    measurements: list[str],
    prometheus_factory: PrometheusFactory,
) -> None:
    settings, account, pool = live_pipeline
    assert local_stack.aws_endpoint
    ec2 = member_client(local_stack.aws_endpoint, account, "ec2", REGION)
    events_topic = settings.kafka.topic("events")
    watcher = ChangeWatcher(settings)
    producer = kafka.make_producer(settings.kafka)
    prom = prometheus_factory(
        {w.role: [w.metrics_url.split("/")[2]] for w in pool.workers}  # host:port
    )
    latencies: list[float] = []

    def emit(name: str, detail: dict[str, Any]) -> float:
        at = datetime.now(UTC)
        # Through the hub bus's forwarder function, as EventBridge would invoke it.
        forward(settings, producer, json.loads(cloudtrail_event(account, name, detail, at)))
        return at.timestamp()

    def expect(
        kind: ChangeType,
        resource_id: str,
        sent: float,
        also: Callable[[ChangeEvent], bool] = lambda _c: True,
    ) -> ChangeEvent:
        change, at = watcher.wait_for(
            lambda c: (
                c.change_type is kind
                and c.resource_id == resource_id
                and c.observed_at.timestamp() >= sent - 1
                and also(c)
            )
        )
        latencies.append(at - sent)
        return change

    try:
        # Noise first: a malformed event goes to the DLQ, an unknown one is ignored.
        produce_raw(
            settings,
            events_topic,
            [
                (None, b"{not json"),
                (None, cloudtrail_event(account, "DescribeInstances", {}, datetime.now(UTC))),
            ],
        )
        launched = []
        for _ in range(4):
            instance = ec2.run_instances(
                ImageId=SEED_AMI, MinCount=1, MaxCount=1, InstanceType="t3.micro"
            )["Instances"][0]["InstanceId"]
            sent = emit("RunInstances", {"responseElements": {"instancesSet": items(instance)}})
            expect(ChangeType.CREATED, instance, sent)
            launched.append(instance)
        for n, instance in enumerate(launched):
            ec2.create_tags(Resources=[instance], Tags=[{"Key": "Env", "Value": f"prod-{n}"}])
            sent = emit(
                "CreateTags",
                {"requestParameters": {"resourcesSet": items(instance, key="resourceId")}},
            )
            change = expect(ChangeType.MODIFIED, instance, sent)
            assert change.tags is not None and change.tags.get("Env") == f"prod-{n}"
            assert any("Env" in path for path in change.changed_paths), change.changed_paths
        victim = launched[0]
        ec2.terminate_instances(InstanceIds=[victim])
        sent = emit("TerminateInstances", {"requestParameters": {"instancesSet": items(victim)}})
        terminated = expect(ChangeType.MODIFIED, victim, sent)
        assert terminated.attributes_json is not None
        assert json.loads(terminated.attributes_json)["State"]["Name"] == "terminated"

        # A burst: 100 events for one resource (one second of CloudTrail time) -> one describe.
        target = launched[1]
        ec2.create_tags(Resources=[target], Tags=[{"Key": "Burst", "Value": "yes"}])
        at = datetime.now(UTC).replace(microsecond=0)
        burst = cloudtrail_event(
            account,
            "CreateTags",
            {"requestParameters": {"resourcesSet": items(target, key="resourceId")}},
            at,
        )
        for _ in range(100):
            forward(settings, producer, json.loads(burst))
        expect(
            ChangeType.MODIFIED,
            target,
            at.timestamp(),
            lambda c: (c.tags or {}).get("Burst") == "yes",
        )
        time.sleep(4)  # time for any second describe to show up
        refreshes = [
            item
            for m in read_topic(settings, settings.kafka.topic("refresh"))
            if target in ((item := decode_work_item(m.value())).resource_ids or ())
            and item.triggered_at is not None
            and item.triggered_at >= at
        ]
        assert len(refreshes) == 1, refreshes
        burst_changes = [
            c for c, _ in watcher.seen if c.resource_id == target and (c.tags or {}).get("Burst")
        ]
        assert len(burst_changes) == 1

        dead = read_topic(settings, settings.kafka.topic("dlq"), idle_s=1)
        assert [m.value() for m in dead] == [b"{not json"]
        router = next(w for w in pool.workers if w.role == "router")
        sink = next(w for w in pool.workers if w.role == "sink")
        outcomes = {
            labels["outcome"]: value
            for labels, value in samples(router.metrics_url, "fleetstream_events_total")
        }
        # 4 launches, 4 tag changes, 1 termination and the burst's first event were routed.
        assert outcomes["routed"] == 10
        assert outcomes["unknown"] == outcomes["malformed"] == 1
        assert outcomes.get("coalesced", 0) + outcomes.get("duplicate", 0) == 99
        freshness = samples(sink.metrics_url, "fleetstream_event_to_change_seconds_count")
        assert sum(value for _labels, value in freshness) == 10

        # Every query of the dashboard's event-driven row has data to show.
        dashboard = load("fleetstream-continuous.json")
        prom.wait_until(
            "the event-driven panels to have data",
            lambda: (
                not queries_without_data(
                    prom, dashboard, row_panels(dashboard, "Event-driven refresh")
                )
            ),
        )

        # The safety net: the next sweep no longer sees the terminated instance and deletes it.
        result = run_sweep(
            settings, None, describers=0, sinks=0, timeout_s=120, log_dir=log_dir, echo=print
        )
        assert result.ok, result.progress
        watcher.wait_for(lambda c: c.change_type is ChangeType.DELETED and c.resource_id == victim)
    finally:
        watcher.close()
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    measurements.append(
        f"event -> change event (local stack, coalescing window 1.0 s): n={len(ordered)} "
        f"p50={p50:.2f}s p95={p95:.2f}s max={ordered[-1]:.2f}s"
    )
