"""Authorization in Kafka itself: a SCRAM user per stage, ACLs from fleetstream/kafka/acl.py.

The module starts its own Kafka (KRaft, StandardAuthorizer, SASL_SSL listener with one SCRAM
user per stage); DynamoDB and moto are the session's. Topics and ACLs are created through the
broker's PLAINTEXT listener, whose (unauthenticated) principal is the super user.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Message
from confluent_kafka.admin import AdminClient

from devstack import LocalStack, StackEndpoints, StackError
from devstack.kafka_node import KafkaNode, SecureListeners
from devstack.seed import EstateSpec, seed_estate
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings, load_settings
from fleetstream.base.models import GLOBAL_REGION, ShardOutcome, ShardStatus, WorkItem
from fleetstream.inventory.sweeps import SweepProgress, SweepStore
from fleetstream.kafka import clients as kafka
from fleetstream.kafka.acl import all_bindings, apply_acls
from fleetstream.runtime.workers import WorkerPool
from fleetstream.serde.wire import encode_resource_event, encode_work_item
from producers.main import plan_sweep
from tests.conftest import pipeline_env
from tests.integration.helpers import (
    inventory_facts,
    inventory_items,
    member_client,
    produce_raw,
    read_topic,
)
from tests.tls_certs import CertificateAuthority

pytestmark = pytest.mark.integration

STAGE_USERS = ("planner", "describer", "sink", "router")
PASSWORDS = {stage: f"{stage}-{uuid.uuid4().hex}" for stage in STAGE_USERS}


@dataclass(frozen=True)
class AclBroker:
    """The authorizing broker: an admin (plaintext, super user) and a SCRAM listener."""

    admin_bootstrap: str
    sasl_ssl: str
    ca_file: Path


@pytest.fixture(scope="module")
def acl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AclBroker]:
    """A Kafka with the StandardAuthorizer and a SCRAM user per stage; stopped at the end."""
    certs = tmp_path_factory.mktemp("acl-certs")
    ca = CertificateAuthority("fleetstream ACL test CA")
    broker = ca.issue("kafka-broker", server=True)
    (certs / "ca.pem").write_text(ca.pem)
    node = KafkaNode(
        SecureListeners(ca.pem, broker.certificate_pem, broker.key_pem, PASSWORDS, authorize=True)
    )
    environ = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    stack = LocalStack(
        tmp_path_factory.mktemp("acl-stack"), environ=environ, components={"kafka": node}
    )
    try:
        stack.start(["kafka"])
        ports = stack.ports("kafka")
        yield AclBroker(
            admin_bootstrap=f"127.0.0.1:{ports['broker']}",
            sasl_ssl=f"127.0.0.1:{ports['sasl_ssl']}",
            ca_file=certs / "ca.pem",
        )
    except StackError as error:
        pytest.fail(f"authorizing Kafka did not start: {error}", pytrace=False)
    finally:
        stack.stop()


def stage_env(broker: AclBroker, stage: str) -> dict[str, str]:
    """Environment overrides that make a process connect as the stage's own Kafka user."""
    security = {
        "mode": "scram",
        "ca_file": str(broker.ca_file),
        "username": stage,
        "password": PASSWORDS[stage],
    }
    return {
        "KAFKA_BOOTSTRAP_SERVERS": broker.sasl_ssl,
        "FLEETSTREAM_KAFKA__SECURITY": json.dumps(security),
    }


def with_env(base: dict[str, str], overrides: dict[str, str]) -> Settings:
    return load_settings(None, env={**os.environ, **base, **overrides})


@pytest.fixture
def acl_pipeline(
    acl_broker: AclBroker, local_stack: StackEndpoints, tag: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """An isolated pipeline on the ACL broker: topics and every stage's ACLs created by the
    admin; the returned environment is the admin's (plaintext) one."""
    env = pipeline_env(local_stack, tag, KAFKA_BOOTSTRAP_SERVERS=acl_broker.admin_bootstrap)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    admin_settings = load_settings(None)
    kafka.ensure_topics(admin_settings.kafka)
    admin = AdminClient({"bootstrap.servers": acl_broker.admin_bootstrap})
    bindings = all_bindings(admin_settings, [(stage, stage) for stage in STAGE_USERS])
    apply_acls(admin, bindings)
    return env


def deliveries(settings: Settings, topics: list[str]) -> dict[str, str]:
    """Produce one record to each topic as the settings' user: topic -> error name or 'ok'."""
    outcome: dict[str, str] = {}

    def report(error: KafkaError | None, message: Message) -> None:
        outcome[str(message.topic())] = "ok" if error is None else str(error.name())

    producer = kafka.make_producer(settings.kafka)
    for topic in topics:
        producer.produce(settings.kafka.topic(topic), key=b"k", value=b"forged", on_delivery=report)
    producer.flush(60)
    return {topic: outcome.get(settings.kafka.topic(topic), "undelivered") for topic in topics}


@contextmanager
def pipeline_under_acls(
    acl_broker: AclBroker,
    acl_pipeline: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
    scope: dict[str, str],
) -> Iterator[tuple[Settings, Settings, WorkerPool]]:
    """A describer and a sink under their stages' Kafka users, joined to their groups; yields
    the admin's settings, the planner's (its user and this scope) and the pool."""
    for name, value in scope.items():
        monkeypatch.setenv(name, value)
    admin = load_settings(None)
    planner = with_env({**acl_pipeline, **scope}, stage_env(acl_broker, "planner"))
    pool = WorkerPool(None, log_dir)
    try:
        pool.start("describer", 1, stage_env(acl_broker, "describer"))
        pool.start("sink", 1, stage_env(acl_broker, "sink"))
        for group in (admin.describer.group_id, admin.sink.group_id):
            # Group state is read through the admin listener; the members joined under ACLs.
            while not kafka.wait_for_group(admin.kafka, group, 1, 5.0):
                pool.check()
        yield admin, planner, pool
    finally:
        pool.stop()


def sweep_to_the_end(admin: Settings, planner: Settings, pool: WorkerPool) -> SweepProgress:
    """Plan a sweep as the planner and wait until every shard of it has an outcome."""
    sweeps = SweepStore(dynamodb_client(admin), admin.sink.sweeps_table, timedelta(days=1))
    progress = sweeps.progress(plan_sweep(planner).sweep_id)
    while not progress.finished:
        pool.check()
        time.sleep(0.25)
        progress = sweeps.progress(progress.sweep_id)
    return progress


def test_the_sink_and_the_router_may_not_write_actions_or_action_work(
    acl_broker: AclBroker, acl_pipeline: dict[str, str]
) -> None:
    forged = ["actions", "action-work"]
    sink = with_env(acl_pipeline, stage_env(acl_broker, "sink"))
    router = with_env(acl_pipeline, stage_env(acl_broker, "router"))
    assert deliveries(sink, forged) == dict.fromkeys(forged, "TOPIC_AUTHORIZATION_FAILED")
    assert deliveries(router, forged) == dict.fromkeys(forged, "TOPIC_AUTHORIZATION_FAILED")
    # Their own topics still take their records: the refusal is the ACL, not the connection.
    assert deliveries(sink, ["changes", "state"]) == {"changes": "ok", "state": "ok"}
    assert deliveries(router, ["refresh"]) == {"refresh": "ok"}


def test_a_sweep_with_a_kafka_user_per_stage_reaches_dynamodb(
    acl_broker: AclBroker,
    acl_pipeline: dict[str, str],
    local_stack: StackEndpoints,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    assert local_stack.aws_endpoint
    estate = seed_estate(
        local_stack.aws_endpoint, EstateSpec(member_accounts=2, paged_instances=12)
    )
    scope = {
        "FLEETSTREAM_ACCOUNTS__INCLUDE": json.dumps([a.account_id for a in estate.accounts]),
        "FLEETSTREAM_REGIONS__INCLUDE": json.dumps(list(estate.regions)),
        "FLEETSTREAM_DESCRIBER__PAGE_SIZE": "5",
    }
    with pipeline_under_acls(acl_broker, acl_pipeline, monkeypatch, log_dir, scope) as (
        admin,
        planner,
        pool,
    ):
        progress = sweep_to_the_end(admin, planner, pool)
    assumable = {a.account_id for a in estate.accounts if a.assumable}
    assert {s.status for s in progress.shards} == {ShardStatus.COMPLETE}
    assert {(s.account_id, s.region) for s in progress.shards} == {
        (a, r) for a in assumable for r in estate.regions
    }
    assert inventory_facts(admin) == {f for f in estate.truth() if f[0] in assumable}
    assert progress.resources > 0


def test_a_refresh_longer_than_a_page_goes_on_under_the_describers_acls(
    acl_broker: AclBroker,
    acl_pipeline: dict[str, str],
    local_stack: StackEndpoints,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    """IAM roles are refreshed by listing and keeping the named ones: past one page, the
    describer writes the refresh's next page to `refresh`, which its user must be allowed."""
    assert local_stack.aws_endpoint
    estate = seed_estate(
        local_stack.aws_endpoint,
        EstateSpec(member_accounts=1, regions=("us-east-1",), paged_region=None),
    )
    account = next(a.account_id for a in estate.accounts if a.assumable)
    iam = member_client(local_stack.aws_endpoint, account, "iam", "us-east-1")
    trust = {"Version": "2012-10-17", "Statement": []}
    names = [f"acl-refresh-{uuid.uuid4().hex[:8]}-{n}" for n in range(12)]
    for name in names:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    monkeypatch.setenv("FLEETSTREAM_RESOURCE_TYPES", json.dumps(["iam.role"]))
    monkeypatch.setenv("FLEETSTREAM_DESCRIBER__PAGE_SIZE", "5")
    admin = load_settings(None)
    target = names[-1]  # listed last: several pages after the first
    now = datetime.now(UTC)
    refresh = WorkItem(
        sweep_id=f"refresh-{uuid.uuid4().hex[:8]}",
        account_id=account,
        region=GLOBAL_REGION,
        resource_type="iam.role",
        shard_started_at=now,
        issued_at=now,
        resource_ids=(target,),
        triggered_at=now,
    )
    pool = WorkerPool(None, log_dir)
    try:
        pool.start("describer", 1, stage_env(acl_broker, "describer"))
        pool.start("sink", 1, stage_env(acl_broker, "sink"))
        for group in (admin.describer.group_id, admin.sink.group_id):
            while not kafka.wait_for_group(admin.kafka, group, 1, 5.0):
                pool.check()
        produce_raw(
            admin,
            admin.kafka.topic("refresh"),
            [(f"{account}/{GLOBAL_REGION}".encode(), encode_work_item(refresh))],
        )
        deadline = time.monotonic() + 90
        while target not in inventory_items(admin) and time.monotonic() < deadline:
            pool.check()
            time.sleep(0.5)
    finally:
        pool.stop()
    assert target in inventory_items(admin), "the refresh never reached its role's page"


def forged_complete(estate_account: str, region: str) -> ShardOutcome:
    """What a compromised planner would write to wipe a shard: a COMPLETE outcome whose
    describing started just now, so every item observed before it looks unseen."""
    now = datetime.now(UTC)
    return ShardOutcome(
        sweep_id=f"forged-{uuid.uuid4().hex[:8]}",
        account_id=estate_account,
        region=region,
        resource_type="ec2.instance",
        status=ShardStatus.COMPLETE,
        resource_count=0,
        pages=1,
        shard_started_at=now,
        finished_at=now,
        described_from=now,
    )


def test_a_planner_cannot_forge_a_complete_outcome_that_deletes(
    acl_broker: AclBroker,
    acl_pipeline: dict[str, str],
    local_stack: StackEndpoints,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    """The planner reports only what planning found (FAILED, ACCOUNT_GONE): the broker refuses
    its writes to `resources`, and the sink dead-letters anything else on `plan-outcomes`.
    Before: the planner's user could write `resources`, and its forged COMPLETE outcome
    tombstoned every live instance of the shard."""
    assert local_stack.aws_endpoint
    estate = seed_estate(
        local_stack.aws_endpoint,
        EstateSpec(member_accounts=1, regions=("us-east-1",), paged_region=None),
    )
    account = next(a.account_id for a in estate.accounts if a.assumable)
    scope = {
        "FLEETSTREAM_ACCOUNTS__INCLUDE": json.dumps([account]),
        "FLEETSTREAM_REGIONS__INCLUDE": json.dumps(["us-east-1"]),
    }
    with pipeline_under_acls(acl_broker, acl_pipeline, monkeypatch, log_dir, scope) as (
        admin,
        planner,
        pool,
    ):
        sweep_to_the_end(admin, planner, pool)
        live = inventory_facts(admin)
        assert live, "the sweep stored nothing to protect"
        time.sleep(admin.sink.clock_skew_margin_ms / 1000 + 1)  # past the skew margin

        forgery = encode_resource_event(forged_complete(account, "us-east-1"))
        written: dict[str, str] = {}

        def report(error: KafkaError | None, message: Message) -> None:
            written[str(message.topic())] = "ok" if error is None else str(error.name())

        producer = kafka.make_producer(planner.kafka)
        for topic in ("resources", "plan-outcomes"):
            key = f"{account}/us-east-1/ec2.instance".encode()
            producer.produce(planner.kafka.topic(topic), forgery, key, on_delivery=report)
        producer.flush(30)
        # The sink has had its chance once the forgery on plan-outcomes is dead-lettered (or,
        # on a pipeline that trusts the planner, once the forgery has tombstoned the shard).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and inventory_facts(admin) == live:
            pool.check()
            dead = read_topic(admin, admin.kafka.topic("dlq"), idle_s=1.0)
            if any(m.value() == forgery for m in dead):
                break
            time.sleep(0.5)
    assert inventory_facts(admin) == live, "a forged outcome deleted live resources"
    assert written.get(planner.kafka.topic("resources")) == "TOPIC_AUTHORIZATION_FAILED"
    assert written.get(planner.kafka.topic("plan-outcomes")) == "ok"
    dead = read_topic(admin, admin.kafka.topic("dlq"))
    assert any(m.value() == forgery for m in dead), "the forged outcome was not dead-lettered"
