"""The local stack really runs: Kafka, DynamoDB Local, moto with trust checks, and seeding."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any, Literal

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from confluent_kafka import Consumer, Producer

# NewTopic is re-exported by confluent_kafka.admin without being listed as public.
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from devstack import LocalStack, StackEndpoints
from devstack.kafka_node import KafkaNode
from devstack.seed import Estate, EstateSpec, collect_truth, seed_estate
from tests.integration.helpers import aws_calls, set_faults

pytestmark = pytest.mark.integration

EXTERNAL_ID = "fleetstream-test"
SPEC = EstateSpec(unassumable_accounts=1, external_id=EXTERNAL_ID)
DUMMY_KEY = "testing"  # moto maps unknown keys to its default (management) account


def _kafka(endpoints: StackEndpoints) -> str:
    assert endpoints.kafka_bootstrap is not None
    return endpoints.kafka_bootstrap


def _aws(endpoints: StackEndpoints) -> str:
    assert endpoints.aws_endpoint is not None
    return endpoints.aws_endpoint


def _new_topic(bootstrap: str) -> str:
    topic = f"devstack-{uuid.uuid4().hex[:10]}"
    # Keep the client referenced until the future resolves, or librdkafka destroys it first.
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    futures[topic].result(30)
    return topic


def _produce(bootstrap: str, topic: str, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for n in range(count):
        producer.produce(topic, key=f"k{n}".encode(), value=f"v{n}".encode())
    assert producer.flush(30) == 0


def _consume(bootstrap: str, topic: str, count: int, timeout: float = 60) -> list[bytes]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": uuid.uuid4().hex,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    values: list[bytes] = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        while len(values) < count and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            value = None if msg is None or msg.error() else msg.value()
            if value is not None:
                values.append(value)
    finally:
        consumer.close()
    return values


def _sts_as_hub(aws: str) -> Any:
    return boto3.client(
        "sts",
        endpoint_url=aws,
        region_name="us-east-1",
        aws_access_key_id=DUMMY_KEY,
        aws_secret_access_key=DUMMY_KEY,
    )


@pytest.fixture(scope="module")
def estate(local_stack: StackEndpoints) -> Estate:
    """Seed an estate with one unassumable account (seeding is additive, so no reset)."""
    return seed_estate(_aws(local_stack), SPEC)


def test_endpoints_are_loopback(local_stack: StackEndpoints) -> None:
    assert set(local_stack.as_env()) == {
        "KAFKA_BOOTSTRAP_SERVERS",
        "FLEETSTREAM_DYNAMODB_ENDPOINT",
        "AWS_ENDPOINT_URL",
    }


def test_kafka_round_trip(local_stack: StackEndpoints) -> None:
    bootstrap = _kafka(local_stack)
    topic = _new_topic(bootstrap)
    _produce(bootstrap, topic, 10)
    assert _consume(bootstrap, topic, 10) == [f"v{n}".encode() for n in range(10)]


def test_dynamodb_create_table(local_stack: StackEndpoints) -> None:
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=local_stack.dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id=DUMMY_KEY,
        aws_secret_access_key=DUMMY_KEY,
    )
    name = f"devstack-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}}


def test_seed_counts_match_spec_and_moto(local_stack: StackEndpoints, estate: Estate) -> None:
    accounts = SPEC.member_accounts + SPEC.unassumable_accounts
    regions = len(SPEC.regions)
    expected = (
        accounts * regions * SPEC.instances_per_region
        - SPEC.instances_per_region
        + SPEC.paged_instances
    )
    assert len(estate.accounts) == accounts
    assert sum(a.assumable for a in estate.accounts) == SPEC.member_accounts
    assert len(estate.instances) == expected
    assert collect_truth(_aws(local_stack), estate) == estate.truth()


def test_paged_shard_needs_five_pages(local_stack: StackEndpoints, estate: Estate) -> None:
    member = estate.accounts[0]
    ec2 = _client_as(_aws(local_stack), member.role_arn, "ec2", SPEC.paged_region)
    pages = list(ec2.get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 5}))
    assert len(pages) >= 5
    seen = {i["InstanceId"] for p in pages for r in p["Reservations"] for i in r["Instances"]}
    assert len(seen) == SPEC.paged_instances


def test_members_see_only_their_own_instances(local_stack: StackEndpoints, estate: Estate) -> None:
    for account in (a for a in estate.accounts if a.assumable):
        sts = _client_as(_aws(local_stack), account.role_arn, "sts", "us-east-1")
        assert sts.get_caller_identity()["Account"] == account.account_id
        for region in SPEC.regions:
            ec2 = _client_as(_aws(local_stack), account.role_arn, "ec2", region)
            pages = ec2.get_paginator("describe_instances").paginate()
            seen = {
                i["InstanceId"] for p in pages for r in p["Reservations"] for i in r["Instances"]
            }
            assert seen == {i.instance_id for i in estate.instances_of(account.account_id, region)}


def test_unassumable_account_is_denied(local_stack: StackEndpoints, estate: Estate) -> None:
    denied = next(a for a in estate.accounts if not a.assumable)
    with pytest.raises(ClientError) as caught:
        _sts_as_hub(_aws(local_stack)).assume_role(
            RoleArn=denied.role_arn, RoleSessionName="denied", ExternalId=EXTERNAL_ID
        )
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert denied.role_arn in caught.value.response["Error"]["Message"]


def test_wrong_external_id_is_denied(local_stack: StackEndpoints, estate: Estate) -> None:
    member = estate.accounts[0]
    with pytest.raises(ClientError) as caught:
        _sts_as_hub(_aws(local_stack)).assume_role(
            RoleArn=member.role_arn, RoleSessionName="tt", ExternalId="not-it"
        )
    assert caught.value.response["Error"]["Code"] == "AccessDenied"


def test_second_start_is_idempotent(devstack: LocalStack) -> None:
    before = {s.name: s.state.pid for s in devstack.status()}
    began = time.monotonic()
    devstack.start()
    elapsed = time.monotonic() - began
    assert {s.name: s.state.pid for s in devstack.status()} == before
    # Generous: a restart of any JVM would take several seconds; a reuse takes well under one.
    assert elapsed < 5


def test_kafka_restart_keeps_topic_data(devstack: LocalStack) -> None:
    kafka = next(s for s in devstack.status() if s.name == "kafka")
    if kafka.state.external:
        pytest.skip("Kafka is brought by the user; the stack does not own its process")
    bootstrap = kafka.state.endpoint
    topic = _new_topic(bootstrap)
    _produce(bootstrap, topic, 25)
    devstack.stop_component("kafka")
    assert not KafkaNode().ready(bootstrap)
    assert devstack.start_component("kafka") == bootstrap
    assert len(_consume(bootstrap, topic, 25)) == 25


def _client_as(aws: str, role_arn: str, service: Literal["ec2", "sts"], region: str | None) -> Any:
    creds = _sts_as_hub(aws).assume_role(
        RoleArn=role_arn, RoleSessionName="devstack-test", ExternalId=EXTERNAL_ID
    )["Credentials"]
    return boto3.Session().client(
        service,
        endpoint_url=aws,
        region_name=region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


FAULT_CALLS = 400


def test_every_error_rule_fires_at_its_own_rate(local_stack: StackEndpoints) -> None:
    """Two rules on one action (the chaos suite's throttling and 5xx): both must fire."""
    aws = _aws(local_stack)
    ec2 = boto3.client(
        "ec2",
        endpoint_url=aws,
        region_name="ap-southeast-2",
        aws_access_key_id=DUMMY_KEY,
        aws_secret_access_key=DUMMY_KEY,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    rates = {"RequestLimitExceeded": 0.3, "InternalError": 0.15}
    rules = [
        {"action": "DescribeInstances", "rate": 0.3, "code": "RequestLimitExceeded"},
        {"action": "DescribeInstances", "rate": 0.15, "code": "InternalError", "status": 500},
    ]
    since = time.time()
    set_faults(aws, {"errors": rules})
    try:
        for _ in range(FAULT_CALLS):
            try:
                ec2.describe_instances()
            except ClientError as exc:
                assert exc.response["Error"]["Code"] in rates
    finally:
        set_faults(aws, {})
    injected = Counter(
        call.get("injected")
        for call in aws_calls(aws)
        if call["action"] == "DescribeInstances" and call["at"] >= since
    )
    print(f"injected per rule over {FAULT_CALLS} calls: {dict(injected)}")
    for code, rate in rates.items():
        # Binomial: the bounds are more than four standard deviations from the mean.
        expected = rate * FAULT_CALLS
        assert expected / 2 < injected[code] < expected * 2, (code, dict(injected))
