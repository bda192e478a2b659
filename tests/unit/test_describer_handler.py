"""The describer's handler: pages chain through the work topic; AWS failures end a shard."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from consumers.describer.handler import Describer, DescribeResult
from fleetstream.base.errors import PoisonMessageError
from fleetstream.base.models import ShardStatus, WorkItem
from fleetstream.catalog import CATALOG

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, tzinfo=UTC)


class OneClient:
    """Stands in for AwsClients: hands out one stubbed client, or raises."""

    def __init__(self, client: Any = None, error: Exception | None = None) -> None:
        self.client = client
        self.error = error

    def member(self, account_id: str, region: str, service: str) -> Any:
        if self.error is not None:
            raise self.error
        return self.client


def describer(clients: Any, now: datetime = NOW) -> Describer:
    return Describer(
        clients,
        CATALOG,
        page_size=5,
        role_arn_of=lambda a: f"arn:aws:iam::{a}:role/R",
        redaction_key=b"unit-test-redaction-key",
        clock=lambda: now,
    )


def work(**changes: Any) -> WorkItem:
    base: dict[str, Any] = {
        "sweep_id": "s",
        "account_id": "111111111111",
        "region": "eu-west-1",
        "resource_type": "ec2.instance",
        "shard_started_at": NOW,
        "issued_at": NOW,
    }
    return WorkItem(**(base | changes))


def test_a_middle_page_emits_observations_and_the_next_page() -> None:
    client = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x").client(
        "ec2", region_name="eu-west-1"
    )
    with Stubber(client) as stub:
        stub.add_response(
            "describe_instances",
            {"Reservations": [{"Instances": [{"InstanceId": "i-1"}]}], "NextToken": "n"},
            {**CATALOG["ec2.instance"].request_params, "MaxResults": 5, "NextToken": "p"},
        )
        result = describer(OneClient(client)).handle(
            work(page_token={"NextToken": "p"}, page_number=2, resources_so_far=10)
        )
    assert [o.resource_id for o in result.observations] == ["i-1"]
    assert result.outcome is None
    assert result.next_item is not None
    assert result.next_item.page_token == {"NextToken": "n"}
    assert result.next_item.page_number == 3
    assert result.next_item.resources_so_far == 11


def test_the_last_page_completes_the_shard_with_its_total() -> None:
    client = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x").client(
        "ec2", region_name="eu-west-1"
    )
    with Stubber(client) as stub:
        stub.add_response(
            "describe_instances",
            {"Reservations": [{"Instances": [{"InstanceId": "i-1"}, {"InstanceId": "i-2"}]}]},
        )
        result = describer(OneClient(client)).handle(work(page_number=4, resources_so_far=20))
    assert result.next_item is None
    assert result.outcome is not None
    assert result.outcome.status is ShardStatus.COMPLETE
    assert (result.outcome.resource_count, result.outcome.pages) == (22, 5)


def ec2_client() -> Any:
    return boto3.Session(aws_access_key_id="x", aws_secret_access_key="x").client(
        "ec2", region_name="eu-west-1"
    )


def test_the_first_page_measures_the_shard_start_on_the_describers_own_clock() -> None:
    # The planner's start is a year ahead (a wrong clock): the describer's own time is used.
    planned = work(shard_started_at=NOW + timedelta(days=365))
    client = ec2_client()
    with Stubber(client) as stub:
        stub.add_response(
            "describe_instances",
            {"Reservations": [{"Instances": [{"InstanceId": "i-1"}]}], "NextToken": "n"},
        )
        first = describer(OneClient(client)).handle(planned)
    assert first.next_item is not None and first.next_item.described_from == NOW
    client = ec2_client()
    later = describer(OneClient(client), NOW + timedelta(minutes=3))
    with Stubber(client) as stub:
        stub.add_response("describe_instances", {"Reservations": []})
        last = later.handle(first.next_item)
    # Carried by the next page (another describer, later) to the outcome.
    assert last.outcome is not None and last.outcome.described_from == NOW
    # A retry of the first page carries it too.
    retried = describer(OneClient(error=throttled())).handle(planned).retry
    assert retried is not None and retried.described_from == NOW
    # A later page written before work_item v4 has none, and neither has its outcome.
    client = ec2_client()
    with Stubber(client) as stub:
        stub.add_response("describe_instances", {"Reservations": []})
        old = describer(OneClient(client)).handle(work(page_token={"t": "x"}, page_number=3))
    assert old.outcome is not None and old.outcome.described_from is None


def test_a_role_that_cannot_be_assumed_fails_the_shard_with_the_reason() -> None:
    denied = ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "AssumeRole"
    )
    result = describer(OneClient(error=denied)).handle(work(resources_so_far=7, page_number=1))
    assert result.observations == []
    assert result.outcome is not None
    assert result.outcome.status is ShardStatus.FAILED
    assert result.outcome.error_code == "RoleNotAssumable"
    assert "arn:aws:iam::111111111111:role/R" in (result.outcome.reason or "")
    # A failed shard never claims fewer resources than it had seen.
    assert result.outcome.resource_count == 7


def throttled(code: str = "RequestLimitExceeded", status: int = 503) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "slow down"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "DescribeInstances")


def test_throttling_retries_the_same_page_later_instead_of_failing() -> None:
    item = work(page_token={"NextToken": "p3"}, page_number=3, resources_so_far=15)
    result = describer(OneClient(error=throttled())).handle(item)
    assert result.outcome is None
    assert result.observations == []
    assert result.retry is not None
    assert result.retry.page_token == {"NextToken": "p3"}
    assert (result.retry.page_number, result.retry.resources_so_far) == (3, 15)
    assert result.retry.attempt == 1
    assert result.retry.not_before is not None
    # First backoff: between half and all of the 1 s base.
    assert NOW + timedelta(seconds=0.5) <= result.retry.not_before <= NOW + timedelta(seconds=1)
    assert "RequestLimitExceeded" in (result.retry.last_error or "")


def test_server_errors_are_retried_like_throttling() -> None:
    result = describer(OneClient(error=throttled("InternalError", 500))).handle(work())
    assert result.retry is not None
    assert "transient" in (result.retry.last_error or "")


def test_a_page_out_of_attempts_fails_the_shard_never_reports_it_empty() -> None:
    result = describer(OneClient(error=throttled())).handle(work(attempt=11, resources_so_far=9))
    assert result.retry is None
    assert result.outcome is not None
    assert result.outcome.status is ShardStatus.FAILED
    assert result.outcome.error_code == "Throttled"
    assert "gave up after 12 attempts" in (result.outcome.reason or "")
    assert result.outcome.resource_count == 9


def test_a_shard_past_its_deadline_fails() -> None:
    old = NOW - timedelta(hours=2)
    result = describer(OneClient(error=throttled())).handle(work(shard_started_at=old))
    assert result.outcome is not None
    assert result.outcome.status is ShardStatus.FAILED


def test_an_unknown_resource_type_is_poison() -> None:
    with pytest.raises(PoisonMessageError):
        describer(OneClient()).handle(work(resource_type="nope.thing"))


def _ec2() -> Any:
    return boto3.Session(aws_access_key_id="x", aws_secret_access_key="x").client(
        "ec2", region_name="eu-west-1"
    )


def test_a_refresh_describes_only_its_ids_and_never_completes_the_shard() -> None:
    client = _ec2()
    refresh = work(resource_ids=("i-1", "i-2"), triggered_at=NOW, sweep_id="refresh-1")
    with Stubber(client) as stub:
        # Ids, no state filter (a terminated instance shows as such), no MaxResults (EC2
        # refuses it next to InstanceIds).
        stub.add_response(
            "describe_instances",
            {
                "Reservations": [
                    {"Instances": [{"InstanceId": "i-1", "State": {"Name": "terminated"}}]}
                ]
            },
            {"InstanceIds": ["i-1", "i-2"]},
        )
        result = describer(OneClient(client)).handle(refresh)
    assert [o.resource_id for o in result.observations] == ["i-1"]
    assert result.outcome is None and result.next_item is None and result.retry is None


def test_a_refresh_racing_eventual_consistency_is_retried_then_dropped() -> None:
    not_found = ClientError(
        {"Error": {"Code": "InvalidInstanceID.NotFound", "Message": "no"}}, "DescribeInstances"
    )
    refresh = work(resource_ids=("i-new",), triggered_at=NOW, sweep_id="refresh-1")
    first = describer(OneClient(error=not_found)).handle(refresh)
    assert first.retry is not None and first.retry.resource_ids == ("i-new",)
    exhausted = describer(OneClient(error=not_found)).handle(replace(refresh, attempt=3))
    # A refresh that cannot be done is left to the next sweep: no FAILED shard.
    assert exhausted == DescribeResult()


def test_a_refresh_of_a_type_without_refresh_rules_is_poison() -> None:
    with pytest.raises(PoisonMessageError, match="no refresh"):
        describer(OneClient()).handle(
            work(resource_type="ec2.key_pair", resource_ids=("k",), triggered_at=NOW)
        )
