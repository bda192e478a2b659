"""Member accounts share one botocore client per (region, service), against moto.

Each account's calls must still be signed with that account's own assumed-role credentials,
from any number of threads at once: moto answers with the signing account's instances and
identity, and the fault middleware logs the account of every call's access key, so a call
signed with another account's (or the hub's) credentials shows up as a wrong answer.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import NoCredentialsError

from devstack import LocalStack
from devstack.seed import Estate, EstateSpec, seed_estate
from fleetstream.aws.clients import AwsClients
from tests.integration.helpers import aws_calls, settings_for

pytestmark = pytest.mark.integration
REGIONS = ("us-east-1", "eu-west-1")
ROUNDS = 6


@pytest.fixture(scope="module")
def aws_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto (with the devstack's trust and call-log middleware) alone: no Kafka needed."""
    stack = LocalStack(tmp_path_factory.mktemp("moto-only"))
    try:
        endpoint = stack.start(["aws"]).aws_endpoint
        assert endpoint
        yield endpoint
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def external_id() -> str:
    return f"shared-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def estate(aws_endpoint: str, external_id: str) -> Estate:
    spec = EstateSpec(
        member_accounts=3,
        regions=REGIONS,
        instances_per_region=2,
        paged_region=None,
        external_id=external_id,
    )
    return seed_estate(aws_endpoint, spec)


@pytest.fixture
def clients(
    monkeypatch: pytest.MonkeyPatch, aws_endpoint: str, estate: Estate, external_id: str
) -> AwsClients:
    settings = settings_for(
        monkeypatch,
        estate,
        AWS_ENDPOINT_URL=aws_endpoint,
        FLEETSTREAM_AWS__MEMBER_ROLE_NAME="FleetstreamReadOnly",
        FLEETSTREAM_AWS__EXTERNAL_ID=external_id,
    )
    return AwsClients(settings.aws)


def _seen(clients: AwsClients, account: str, region: str) -> tuple[str, set[str]]:
    """(the caller identity's account, the instance ids) as the account's clients see them."""
    identity = clients.member(account, region, "sts").get_caller_identity()["Account"]
    pages = clients.member(account, region, "ec2").get_paginator("describe_instances").paginate()
    ids = {i["InstanceId"] for p in pages for r in p["Reservations"] for i in r["Instances"]}
    return str(identity), ids


def test_accounts_share_clients_but_never_credentials(
    aws_endpoint: str, estate: Estate, clients: AwsClients
) -> None:
    endpoint = aws_endpoint
    accounts = [a.account_id for a in estate.accounts if a.assumable]
    work = [(a, r) for _ in range(ROUNDS) for a in accounts for r in REGIONS]
    started = len(aws_calls(endpoint))
    # Threads interleave the accounts on the same shared clients, as a describer's do.
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda ar: (ar, _seen(clients, *ar)), work))
    for (account, region), (identity, ids) in results:
        assert identity == account
        assert ids == {i.instance_id for i in estate.instances_of(account, region)}
    calls: list[dict[str, Any]] = aws_calls(endpoint)[started:]
    member_calls = Counter(
        (c["account"], c["action"]) for c in calls if c["action"] != "AssumeRole"
    )
    # Every call was signed by the account it was made for: ROUNDS per account and region.
    for account in accounts:
        assert member_calls[(account, "GetCallerIdentity")] == ROUNDS * len(REGIONS)
        assert member_calls[(account, "DescribeInstances")] == ROUNDS * len(REGIONS)
    assert sum(member_calls.values()) == 2 * ROUNDS * len(REGIONS) * len(accounts)
    # One AssumeRole per account (with the external id the trust policy demands).
    assumed = Counter(c["role_arn"] for c in calls if c["action"] == "AssumeRole")
    assert assumed == {a.role_arn: 1 for a in estate.accounts if a.assumable}
    # One botocore client per (region, service) for all the accounts, and the hub's STS.
    expected = {("members", r, s) for r in REGIONS for s in ("sts", "ec2")}
    assert set(clients._clients._items) == expected | {("hub", "us-east-1", "sts")}


def test_forget_assumes_the_role_again(
    aws_endpoint: str, estate: Estate, clients: AwsClients
) -> None:
    endpoint = aws_endpoint
    account = next(a for a in estate.accounts if a.assumable)
    started = len(aws_calls(endpoint))
    assert _seen(clients, account.account_id, REGIONS[0])[0] == account.account_id
    clients.forget(account.account_id)
    assert _seen(clients, account.account_id, REGIONS[0])[0] == account.account_id
    roles = [c["role_arn"] for c in aws_calls(endpoint)[started:] if c["action"] == "AssumeRole"]
    assert roles == [account.role_arn, account.role_arn]


def test_shared_client_outside_an_account_is_not_signed(
    estate: Estate, clients: AwsClients
) -> None:
    account = next(a for a in estate.accounts if a.assumable)
    clients.member(account.account_id, REGIONS[0], "sts")
    shared = clients._clients._items[("members", REGIONS[0], "sts")]
    with pytest.raises(NoCredentialsError):
        shared.get_caller_identity()
