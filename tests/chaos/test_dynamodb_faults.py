"""The chaos DynamoDB fault layer answers as DynamoDB does, against the real DynamoDB Local:
botocore parses its throttle as ProvisionedThroughputExceededException, the items it hands back
in UnprocessedItems/UnprocessedKeys were really not written/read, and a hung request ends only
by the client's read timeout."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from devstack import StackEndpoints
from fleetstream.aws.errors import error_code
from tests.chaos.dynamodb_faults import DynamoDBFaults

pytestmark = pytest.mark.chaos


def _client(endpoint: str, **config: Any) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        # total_max_attempts counts the first attempt (max_attempts would count retries only).
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, **config),
    )


@pytest.fixture
def layer(local_stack: StackEndpoints) -> Iterator[DynamoDBFaults]:
    assert local_stack.dynamodb_endpoint
    faults = DynamoDBFaults.in_front_of(local_stack.dynamodb_endpoint, seed=7)
    yield faults
    faults.close()


@pytest.fixture
def table(local_stack: StackEndpoints) -> Iterator[str]:
    assert local_stack.dynamodb_endpoint
    client = _client(local_stack.dynamodb_endpoint)
    name = f"faults-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
    )
    yield name
    client.delete_table(TableName=name)


def test_throttle_is_the_error_dynamodb_sends(layer: DynamoDBFaults, table: str) -> None:
    layer.busy(throttle_rate=1.0, unprocessed_rate=0.0)
    with pytest.raises(ClientError) as raised:
        _client(layer.endpoint).describe_table(TableName=table)
    assert raised.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert layer.served["throttled DescribeTable"] == 1


def test_unprocessed_items_and_keys_were_not_written_or_read(
    layer: DynamoDBFaults, table: str, local_stack: StackEndpoints
) -> None:
    assert local_stack.dynamodb_endpoint
    through = _client(layer.endpoint)
    direct = _client(local_stack.dynamodb_endpoint)
    keys = [{"k": {"S": f"item-{n}"}} for n in range(10)]
    layer.busy(throttle_rate=0.0, unprocessed_rate=1.0)
    written = through.batch_write_item(
        RequestItems={table: [{"PutRequest": {"Item": key}} for key in keys]}
    )
    held = [r["PutRequest"]["Item"] for r in written["UnprocessedItems"][table]]
    stored = direct.scan(TableName=table, ConsistentRead=True)["Items"]
    assert held and len(held) == layer.served["unprocessed items"]
    assert sorted(i["k"]["S"] for i in stored + held) == sorted(k["k"]["S"] for k in keys)
    read = through.batch_get_item(RequestItems={table: {"Keys": keys}})
    returned = read["Responses"][table]
    unread = read["UnprocessedKeys"][table]["Keys"]
    assert unread and len(unread) == layer.served["unprocessed keys"]
    assert len(returned) + len(unread) == len(keys)
    assert not {k["k"]["S"] for k in unread} & {i["k"]["S"] for i in returned}


def test_a_hung_request_ends_by_the_clients_timeout(layer: DynamoDBFaults, table: str) -> None:
    layer.hang()
    with pytest.raises(ReadTimeoutError):
        _client(layer.endpoint, read_timeout=1).describe_table(TableName=table)
    # The layer saw the client give up while it was still hanging.
    deadline = time.monotonic() + 60  # a loaded machine: wait on the condition, generously
    while not layer.served["hung requests abandoned by the client"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert layer.served["hung DescribeTable"] == 1
    assert layer.served["hung requests abandoned by the client"] == 1


@pytest.mark.parametrize(
    ("failure", "raised"),
    [
        ("server-error", "InternalServerError"),
        ("throttle", "ProvisionedThroughputExceededException"),
        ("close", "ConnectionClosedError"),
    ],
)
def test_fail_fails_only_the_named_operation(
    layer: DynamoDBFaults, table: str, failure: str, raised: str
) -> None:
    client = _client(layer.endpoint)
    layer.fail({"Query"}, failure)
    client.describe_table(TableName=table)  # another operation: forwarded
    with pytest.raises((ClientError, ConnectionClosedError)) as error:
        client.query(
            TableName=table,
            KeyConditionExpression="k = :k",
            ExpressionAttributeValues={":k": {"S": "item-0"}},
        )
    name = (
        error_code(error.value)
        if isinstance(error.value, ClientError)
        else type(error.value).__name__
    )
    assert name == raised
    assert layer.served[f"failed Query ({failure})"] == 1
    layer.heal()
    assert (
        client.query(
            TableName=table,
            KeyConditionExpression="k = :k",
            ExpressionAttributeValues={":k": {"S": "item-0"}},
        )["Items"]
        == []
    )


def test_the_first_eligible_batch_of_each_operation_is_always_partial(
    layer: DynamoDBFaults, table: str
) -> None:
    """A trial must prove the sink met a partial batch: the first request of each operation
    with two entries or more is partial whatever the draw (here a rate that never draws)."""
    through = _client(layer.endpoint)
    one = [{"k": {"S": "single"}}]
    keys = [{"k": {"S": f"item-{n}"}} for n in range(10)]
    layer.busy(throttle_rate=0.0, unprocessed_rate=1e-12)

    def write(batch: list[dict[str, Any]]) -> Any:
        items = [{"PutRequest": {"Item": key}} for key in batch]
        return through.batch_write_item(RequestItems={table: items})

    def read(batch: list[dict[str, Any]]) -> Any:
        return through.batch_get_item(RequestItems={table: {"Keys": batch}})

    # One entry cannot be split: it does not use up the guaranteed partial.
    assert not write(one)["UnprocessedItems"]
    assert not read(one)["UnprocessedKeys"]
    assert write(keys)["UnprocessedItems"]
    assert read(keys)["UnprocessedKeys"]
    assert not write(keys)["UnprocessedItems"]
    assert not read(keys)["UnprocessedKeys"]
    assert layer.served["unprocessed items"] > 0
    assert layer.served["unprocessed keys"] > 0
    # heal() forgets the debt; the next busy() owes it again.
    layer.heal()
    layer.busy(throttle_rate=0.0, unprocessed_rate=1e-12)
    assert write(keys)["UnprocessedItems"]
