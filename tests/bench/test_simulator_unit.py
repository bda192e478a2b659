"""The simulator's pure parts: estate generation, token buckets, pagination tokens, wire formats."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.parsers import create_parser

from bench.scenarios import Shape, critical_path, sim_config
from bench.simulator import protocol, tokens
from bench.simulator.config import BucketConfig, LatencyConfig, SimConfig, ThrottleConfig
from bench.simulator.estate import Estate, EstateSpec, account_id
from bench.simulator.limits import Buckets, LatencyModel, TokenBucket
from bench.simulator.service import Request, Simulator

pytestmark = pytest.mark.unit

SPEC = EstateSpec(seed=7, accounts=3, region_count=2, instances_per_region=30)


def _parse(service: str, operation: str, body: bytes, status: int = 200) -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model(service)
    parser = create_parser(model.metadata["protocol"])
    response = {"body": body, "headers": {}, "status_code": status}
    shape = model.operation_model(operation).output_shape
    assert shape is not None
    parsed: dict[str, Any] = parser.parse(response, shape)
    return parsed


def _request(service: str, region: str, access_key: str = "testing", **params: str) -> Request:
    return Request(protocol.Caller(access_key, region, service), params=params)


def _quiet(spec: EstateSpec = SPEC) -> Simulator:
    return Simulator(SimConfig(estate=spec, enabled=False))


# ---- estate ------------------------------------------------------------------------------------


def test_estate_is_deterministic_per_seed() -> None:
    first, again = Estate(SPEC), Estate(SPEC)
    other = Estate(EstateSpec(seed=8, accounts=3, region_count=2, instances_per_region=30))
    account = account_id(SPEC.seed, 1)
    assert list(first.instances(account, "eu-west-1")) == list(
        again.instances(account, "eu-west-1")
    )
    assert first.instance(account, "eu-west-1", 5) != other.instance(
        account_id(8, 1), "eu-west-1", 5
    )


def test_estate_ids_are_unique_and_shapes_counted() -> None:
    estate = Estate(SPEC)
    ids = {
        i.instance_id
        for a in estate.accounts()
        for region in SPEC.regions
        for i in estate.instances(a.id, region)
    }
    assert len(ids) == SPEC.total_instances == SPEC.live_instances == 180
    assert len({a.id for a in estate.accounts()}) == 3
    assert estate.count(SPEC.hub_account_id, "us-east-1") == 0
    assert estate.count(account_id(SPEC.seed, 0), "af-south-1") == 0


def test_terminated_instances_are_not_live() -> None:
    spec = EstateSpec(accounts=1, region_count=1, instances_per_region=10, terminated_every=5)
    estate = Estate(spec)
    states = [i.state for i in estate.instances(account_id(spec.seed, 0), "us-east-1")]
    assert states.count("terminated") == 2
    assert spec.live_instances == 8


def test_tag_overrides_are_the_only_state() -> None:
    estate = Estate(SPEC)
    account = account_id(SPEC.seed, 0)
    before = estate.instance(account, "us-east-1", 3)
    estate.overrides.set(account, "us-east-1", before.instance_id, {"Owner": "me", "Team": "x"})
    after = dict(estate.instance(account, "us-east-1", 3).tags)
    assert after["Owner"] == "me" and after["Team"] == "x"
    assert after["Name"] == dict(before.tags)["Name"]
    assert len(estate.overrides) == 1


# ---- token bucket and latency ------------------------------------------------------------------


def test_token_bucket_bursts_then_refills() -> None:
    bucket = TokenBucket(BucketConfig(burst=3, rate_per_s=2), now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert not bucket.take(0.4)  # 0.8 tokens so far
    assert bucket.take(0.5)  # 1.0
    assert [bucket.take(100.0) for _ in range(4)] == [True, True, True, False]  # capped at burst


def test_buckets_are_per_account_region_and_class() -> None:
    now = [0.0]
    buckets = Buckets(
        ThrottleConfig(describe=BucketConfig(1, 1), mutate=BucketConfig(1, 1)), lambda: now[0]
    )
    assert buckets.take("a", "r1", "describe")
    assert not buckets.take("a", "r1", "describe")
    assert buckets.take("a", "r2", "describe")
    assert buckets.take("b", "r1", "describe")
    assert buckets.take("a", "r1", "mutate")
    now[0] = 1.0
    assert buckets.take("a", "r1", "describe")


def test_latency_is_lognormal_around_the_median() -> None:
    model = LatencyModel(LatencyConfig(describe_median_ms=100, sigma=0.3, per_item_ms=1), seed=3)
    draws = sorted(model.seconds(describe=True) for _ in range(2001))
    assert 0.09 < draws[1000] < 0.11
    fixed = LatencyModel(LatencyConfig(other_median_ms=40, sigma=0, per_item_ms=0.5))
    assert fixed.seconds(describe=False, items=100) == pytest.approx(0.09)


def test_simulator_throttles_with_ec2_error() -> None:
    config = SimConfig(
        estate=SPEC,
        latency=LatencyConfig(sigma=0),
        throttle=ThrottleConfig(describe=BucketConfig(2, 0.001)),
    )
    simulator = Simulator(config)
    key = protocol.session_access_key(account_id(SPEC.seed, 0), 1)
    replies = [
        simulator.handle(_request("ec2", "us-east-1", key, Action="DescribeRegions"))
        for _ in range(3)
    ]
    assert [r.status for r in replies] == [200, 200, 503]
    assert replies[0].delay_s == pytest.approx(0.15)
    error = _error_code(replies[2].body)
    assert error == "RequestLimitExceeded" and replies[2].throttled


def _error_code(body: bytes) -> str:
    return body.decode().split("<Code>")[1].split("</Code>")[0]


# ---- pagination tokens --------------------------------------------------------------------------


def test_tokens_round_trip_and_reject_other_scopes() -> None:
    token = tokens.encode("a/r/DescribeInstances", 1000, "q1")
    assert tokens.decode(token, "a/r/DescribeInstances", "q1") == 1000
    with pytest.raises(tokens.BadTokenError):
        tokens.decode(token, "b/r/DescribeInstances", "q1")
    with pytest.raises(tokens.BadTokenError):
        tokens.decode(token, "a/r/DescribeInstances", "q2")
    with pytest.raises(tokens.BadTokenError):
        tokens.decode(token[:-3], "a/r/DescribeInstances", "q1")
    with pytest.raises(tokens.BadTokenError):
        tokens.decode("garbage!", "a/r/DescribeInstances", "q1")


def test_describe_instances_pages_parse_with_botocore() -> None:
    simulator = _quiet()
    account = account_id(SPEC.seed, 2)
    key = protocol.session_access_key(account, 9)
    filters = {"Filter.1.Name": "instance-state-name", "Filter.1.Value.1": "running"}
    filters["Filter.1.Value.2"] = "stopped"
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params = {"Action": "DescribeInstances", "MaxResults": "7", **filters}
        if token:
            params["NextToken"] = token
        reply = simulator.handle(_request("ec2", "eu-west-1", key, **params))
        assert reply.status == 200
        parsed = _parse("ec2", "DescribeInstances", reply.body)
        pages += 1
        for reservation in parsed["Reservations"]:
            assert reservation["OwnerId"] == account
            for instance in reservation["Instances"]:
                seen.append(instance["InstanceId"])
                assert {t["Key"] for t in instance["Tags"]} >= {"Name", "Environment", "Team"}
                assert instance["State"]["Name"] in {"running", "stopped"}
                assert instance["NetworkInterfaces"][0]["Attachment"]["AttachTime"]
        token = parsed.get("NextToken")
        if not token:
            break
    assert pages == 5  # 30 instances, 7 per page
    expected = [i.instance_id for i in simulator.estate.instances(account, "eu-west-1")]
    assert seen == expected


def test_describe_instances_rejects_bad_page_size_and_foreign_token() -> None:
    simulator = _quiet()
    key = protocol.session_access_key(account_id(SPEC.seed, 0), 1)
    bad = simulator.handle(
        _request("ec2", "us-east-1", key, Action="DescribeInstances", MaxResults="2000")
    )
    assert bad.status == 400 and _error_code(bad.body) == "InvalidParameterValue"
    token = tokens.encode("someone/else/DescribeInstances", 5, "x")
    foreign = simulator.handle(
        _request("ec2", "us-east-1", key, Action="DescribeInstances", NextToken=token)
    )
    assert foreign.status == 400


def test_regions_and_sts_parse_and_attribute_accounts() -> None:
    simulator = _quiet()
    member = account_id(SPEC.seed, 1)
    assumed = simulator.handle(
        _request(
            "sts",
            "us-east-1",
            Action="AssumeRole",
            RoleArn=f"arn:aws:iam::{member}:role/FleetstreamReadOnly",
            RoleSessionName="test",
        )
    )
    credentials = _parse("sts", "AssumeRole", assumed.body)["Credentials"]
    key = credentials["AccessKeyId"]
    assert len(key) == 20 and protocol.account_of_key(key, SPEC.hub_account_id) == member
    identity = simulator.handle(_request("sts", "us-east-1", key, Action="GetCallerIdentity"))
    assert _parse("sts", "GetCallerIdentity", identity.body)["Account"] == member
    regions = simulator.handle(
        _request("ec2", "us-east-1", key, Action="DescribeRegions", AllRegions="true")
    )
    listed = _parse("ec2", "DescribeRegions", regions.body)["Regions"]
    enabled = [r["RegionName"] for r in listed if r["OptInStatus"] != "not-opted-in"]
    assert enabled == list(SPEC.regions) and len(listed) > len(enabled)
    denied = simulator.handle(
        _request(
            "sts",
            "us-east-1",
            Action="AssumeRole",
            RoleArn="arn:aws:iam::999999999999:role/FleetstreamReadOnly",
            RoleSessionName="test",
        )
    )
    assert denied.status == 403


def test_list_accounts_paginates_json() -> None:
    simulator = _quiet(EstateSpec(accounts=45, region_count=1, instances_per_region=1))
    ids: list[str] = []
    token = None
    while True:
        body: dict[str, Any] = {"NextToken": token} if token else {}
        reply = simulator.handle(
            Request(
                protocol.Caller("testing", "us-east-1", "organizations"),
                target="AWSOrganizationsV20161128.ListAccounts",
                body=body,
            )
        )
        parsed = _parse("organizations", "ListAccounts", reply.body)
        ids += [a["Id"] for a in parsed["Accounts"]]
        token = parsed.get("NextToken")
        if not token:
            break
    assert len(ids) == len(set(ids)) == 45
    assert json.loads(reply.body)["Accounts"][0]["Status"] == "ACTIVE"


def test_create_tags_changes_what_describe_returns() -> None:
    simulator = _quiet()
    account = account_id(SPEC.seed, 0)
    key = protocol.session_access_key(account, 1)
    target = simulator.estate.instance(account, "us-east-1", 4).instance_id
    reply = simulator.handle(
        _request(
            "ec2",
            "us-east-1",
            key,
            Action="CreateTags",
            **{"ResourceId.1": target, "Tag.1.Key": "Owner", "Tag.1.Value": "a&b"},
        )
    )
    assert reply.status == 200
    described = simulator.handle(
        _request("ec2", "us-east-1", key, Action="DescribeInstances", **{"InstanceId.1": target})
    )
    instance = _parse("ec2", "DescribeInstances", described.body)["Reservations"][0]
    tags = {t["Key"]: t["Value"] for t in instance["Instances"][0]["Tags"]}
    assert tags["Owner"] == "a&b"


def test_critical_path_latency_and_rate_bound() -> None:
    wide = critical_path(sim_config(Shape(120, 16, 25)))
    assert wide.shard_pages == 1 and wide.shard_bound == "latency"
    assert wide.seconds == pytest.approx(0.3 + 0.2 + 0.155)
    slow_bucket = ThrottleConfig(describe=BucketConfig(2, 1))
    deep = critical_path(sim_config(Shape(1, 1, 20_000), throttle=slow_bucket))
    assert deep.shard_pages == 20 and deep.shard_bound == "rate limit"
    assert deep.shard_s == pytest.approx(19.0)


def test_terminate_instances_drops_an_instance_from_live_describes() -> None:
    simulator = _quiet()
    account = account_id(SPEC.seed, 0)
    key = protocol.session_access_key(account, 1)
    live = {"Filter.1.Name": "instance-state-name", "Filter.1.Value.1": "running"}
    live |= {"Filter.1.Value.2": "stopped"}

    def described() -> set[str]:
        reply = simulator.handle(
            _request("ec2", "us-east-1", key, Action="DescribeInstances", **live)
        )
        parsed = _parse("ec2", "DescribeInstances", reply.body)
        return {i["InstanceId"] for r in parsed["Reservations"] for i in r["Instances"]}

    before = described()
    target = sorted(before)[0]
    reply = simulator.handle(
        _request("ec2", "us-east-1", key, Action="TerminateInstances", **{"InstanceId.1": target})
    )
    assert reply.status == 200
    parsed = _parse("ec2", "TerminateInstances", reply.body)
    assert parsed["TerminatingInstances"][0]["CurrentState"]["Name"] == "terminated"
    assert described() == before - {target}
