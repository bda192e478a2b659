"""The catalog engine: one page at a time, extraction, and the catalog's own contract."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber

from fleetstream.base.errors import ConfigError
from fleetstream.catalog import CATALOG, entries_for
from fleetstream.catalog.ec2 import INSTANCE
from fleetstream.catalog.engine import canonical_json, fetch_page, observe, partition_of
from fleetstream.catalog.policy import iam_action

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, tzinfo=UTC)
KEY = b"unit-test-redaction-key"


def ec2_client() -> Any:
    return boto3.Session(
        aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-west-1"
    ).client("ec2")


def instance(instance_id: str, name: str | None = None) -> dict[str, Any]:
    tags = [{"Key": "Team", "Value": "data"}]
    if name:
        tags.append({"Key": "Name", "Value": name})
    return {"InstanceId": instance_id, "LaunchTime": NOW, "Tags": tags}


def test_fetch_page_sends_token_and_page_size_and_returns_the_next_token() -> None:
    client = ec2_client()
    with Stubber(client) as stub:
        stub.add_response(
            "describe_instances",
            {
                "Reservations": [{"Instances": [instance("i-1"), instance("i-2")]}],
                "NextToken": "t2",
            },
            {**INSTANCE.request_params, "MaxResults": 5, "NextToken": "t1"},
        )
        page = fetch_page(client, INSTANCE, {"NextToken": "t1"}, 5)
    assert [i["InstanceId"] for i in page.items] == ["i-1", "i-2"]
    assert page.next_token == {"NextToken": "t2"}


def test_last_page_has_no_next_token() -> None:
    client = ec2_client()
    with Stubber(client) as stub:
        stub.add_response(
            "describe_instances", {"Reservations": []}, {**INSTANCE.request_params, "MaxResults": 5}
        )
        page = fetch_page(client, INSTANCE, None, 5)
    assert page.items == []
    assert page.next_token is None


def test_an_echoed_token_ends_the_shard_instead_of_looping() -> None:
    client = ec2_client()
    with Stubber(client) as stub:
        stub.add_response(
            "describe_instances",
            {"Reservations": [], "NextToken": "same"},
            {**INSTANCE.request_params, "MaxResults": 5, "NextToken": "same"},
        )
        page = fetch_page(client, INSTANCE, {"NextToken": "same"}, 5)
    assert page.next_token is None


def test_observe_builds_arn_name_tags_and_canonical_attributes() -> None:
    observation = observe(
        INSTANCE,
        instance("i-9", name="web-1"),
        account_id="111111111111",
        account_name="prod",
        region="cn-north-1",
        sweep_id="s",
        observed_at=NOW,
        redaction_key=KEY,
    )
    assert observation.arn == "arn:aws-cn:ec2:cn-north-1:111111111111:instance/i-9"
    assert observation.name == "web-1"
    assert observation.tags == {"Team": "data", "Name": "web-1"}
    assert observation.attributes_json == canonical_json(instance("i-9", name="web-1"))
    assert '"LaunchTime":"2026-11-23T00:00:00+00:00"' in observation.attributes_json


def test_untagged_resource_has_no_name() -> None:
    item = {"InstanceId": "i-0"}
    observation = observe(
        INSTANCE,
        item,
        account_id="1",
        account_name="",
        region="us-east-1",
        sweep_id="s",
        observed_at=NOW,
        redaction_key=KEY,
    )
    assert observation.name is None
    assert observation.tags == {}


@pytest.mark.parametrize(
    ("region", "partition"),
    [("us-east-1", "aws"), ("cn-northwest-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")],
)
def test_partition_of(region: str, partition: str) -> None:
    assert partition_of(region) == partition


def test_unknown_type_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown resource type 'ec2\.nothing'"):
        entries_for(["ec2.nothing"])


@pytest.mark.parametrize("entry", list(CATALOG.values()), ids=list(CATALOG))
def test_catalog_entry_matches_botocore_models(entry: Any) -> None:
    """Every entry names a real operation, a real paginator, and permissions that cover it."""
    session = botocore.session.get_session()
    model = session.get_service_model(entry.service)
    assert entry.operation in model.operation_names
    if entry.paginated and entry.pagination is None:  # declared paging: no botocore paginator
        paginators = session.get_paginator_model(entry.service)
        assert paginators.get_paginator(entry.operation)
    assert iam_action(entry.service, entry.operation) in entry.permissions
    for permission in entry.permissions:
        service, _, action = permission.partition(":")
        assert service and action and action[0].isupper(), permission
    assert entry.type_name.startswith(entry.service + ".")
