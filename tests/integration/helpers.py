"""Helpers for integration tests against the real local stack."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

from consumers.sink.seen import SeenMarks
from devstack.seed import Estate
from fleetstream.apps.oneshot import SweepResult, run_sweep
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings, load_settings
from fleetstream.base.models import Observation
from fleetstream.inventory.read import scan_items
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.workers import WorkerPool

Fact = tuple[str, str, str, frozenset[tuple[str, str]]]
ACCOUNT = "111111111111"
READ_TOPIC_LIMIT_S = 120.0  # a topic that never reports its end: return what was read


def settings_for(monkeypatch: pytest.MonkeyPatch, estate: Estate, **env: str) -> Settings:
    """Point the (already isolated) pipeline at exactly this estate's accounts and regions."""
    monkeypatch.setenv(
        "FLEETSTREAM_ACCOUNTS__INCLUDE", json.dumps([a.account_id for a in estate.accounts])
    )
    monkeypatch.setenv("FLEETSTREAM_REGIONS__INCLUDE", json.dumps(list(estate.regions)))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings(None)


def action_policy_env(
    actions: dict[str, dict[str, int]], kms_keys: tuple[str, ...] = (), submitter: str = "tests"
) -> dict[str, str]:
    """Settings overrides: this process signs as a fresh submitter the planner trusts, and the
    planner allows these actions (name -> limits) with these KMS keys, inside the estate."""
    key = f"{submitter}-{uuid.uuid4().hex}"
    policy = {
        "submitters": {submitter: key},
        "actions": actions,
        "target_accounts": ["estate"],
        "kms_keys": list(kms_keys),
    }
    return {
        "FLEETSTREAM_ACTIONS__SUBMITTER": json.dumps({"name": submitter, "key": key}),
        "FLEETSTREAM_ACTIONS__POLICY": json.dumps(policy),
    }


def inventory_facts(settings: Settings) -> set[Fact]:
    """The live items of the inventory table, in the shape of the seed's ground truth."""
    facts: set[Fact] = set()
    for item in scan_items(dynamodb_client(settings), settings.sink.table):
        if "deleted_at_ms" in item:
            continue
        tags = frozenset((k, v["S"]) for k, v in item.get("tags", {}).get("M", {}).items())
        facts.add((item["account_id"]["S"], item["region"]["S"], item["resource_id"]["S"], tags))
    return facts


def read_topic(settings: Settings, topic: str, *, idle_s: float = 3.0) -> list[Any]:
    """Every committed message of a topic, from the beginning (read_committed).

    Reads until every partition has reported its end (its last stable offset) since its last
    message, and idle_s has passed without one: on a loaded machine the first fetch can take
    longer than idle_s, and an idle timer alone then returned a partial read (too few retries,
    duplicates or dead letters counted).
    """
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka.bootstrap_servers,
            "group.id": f"reader-{time.time_ns()}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = metadata.topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        messages: list[Any] = []
        at_end: set[int | None] = set()
        last = time.monotonic()
        give_up = last + READ_TOPIC_LIMIT_S
        while time.monotonic() < give_up and (
            at_end != set(partitions) or time.monotonic() - last < idle_s
        ):
            for message in consumer.consume(500, timeout=0.5):
                error = message.error()
                if error is None:
                    messages.append(message)
                    at_end.discard(message.partition())
                    last = time.monotonic()
                elif error.code() == KafkaError._PARTITION_EOF:
                    at_end.add(message.partition())
        return messages
    finally:
        consumer.close()


def produce_raw(settings: Settings, topic: str, records: list[tuple[bytes | None, bytes]]) -> None:
    """Write raw bytes straight onto a topic (poison messages)."""
    producer = Producer({"bootstrap.servers": settings.kafka.bootstrap_servers})
    for key, value in records:
        producer.produce(topic, key=key, value=value)
    assert producer.flush(10) == 0


def aws_calls(aws_endpoint: str) -> list[dict[str, Any]]:
    """The fault middleware's log of every AWS call moto served."""
    with urllib.request.urlopen(f"{aws_endpoint}/_fleetstream/calls", timeout=10) as response:
        calls: list[dict[str, Any]] = json.loads(response.read())
    return calls


def set_faults(aws_endpoint: str, faults: dict[str, Any]) -> None:
    """Configure latency and error injection in front of moto."""
    request = urllib.request.Request(
        f"{aws_endpoint}/_fleetstream/faults", data=json.dumps(faults).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def member_client(aws_endpoint: str, account_id: str, service: str, region: str) -> Any:
    """A moto client acting inside a member account (through OrganizationAccountAccessRole)."""
    sts = boto3.client("sts", endpoint_url=aws_endpoint, region_name="us-east-1")
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="fleetstream-test",
    )["Credentials"]
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=aws_endpoint,
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def inventory_items(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every inventory item, live or tombstoned, by resource id."""
    client = dynamodb_client(settings)
    return {i["resource_id"]["S"]: i for i in scan_items(client, settings.sink.table)}


def sweep(settings: Settings, log_dir: Path, *, ok: bool = False) -> SweepResult:
    """One full sweep with 2 describer and 2 sink processes; ok=True asserts it succeeded."""
    result = run_sweep(
        settings, None, describers=2, sinks=2, timeout_s=240, log_dir=log_dir, echo=print
    )
    if ok:
        assert result.ok, result.progress
    return result


def ec2_observation(resource_id: str, at: datetime, size: str = "small") -> Observation:
    """An EC2 instance observation of ACCOUNT in us-east-1 (sink and change-stream tests)."""
    return Observation(
        arn=f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{resource_id}",
        account_id=ACCOUNT,
        region="us-east-1",
        resource_type="ec2.instance",
        resource_id=resource_id,
        attributes_json=f'{{"InstanceId":"{resource_id}","InstanceType":"{size}"}}',
        observed_at=at,
        sweep_id=f"sweep-{at:%H%M}",
        tags={"Team": "a"},
    )


def seen_marks(settings: Settings) -> SeenMarks:
    """The sink's seen-marks table of these settings (created by Tables.ensure)."""
    return SeenMarks(
        dynamodb_client(settings), settings.sink.seen_table_name, settings.sink.seen_retention_s
    )


def start_event_pipeline(pool: WorkerPool, settings: Settings) -> None:
    """Start one describer, sink and event router and wait until each has joined its group."""
    for role, group in (
        ("describer", settings.describer.group_id),
        ("sink", settings.sink.group_id),
        ("router", settings.router.group_id),
    ):
        pool.start(role, 1)
        if not kafka.wait_for_group(settings.kafka, group, 1, 60):
            pool.check()
