"""The DynamoDB item of an observation, including oversized ones."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime

import pytest

from consumers.sink.store import ATTRIBUTES_INLINE_LIMIT, inventory_item
from fleetstream.base.models import Observation

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, tzinfo=UTC)


def observation(attributes: str) -> Observation:
    return Observation(
        arn="arn:aws:ec2:us-east-1:1:instance/i-1",
        account_id="111111111111",
        region="us-east-1",
        resource_type="ec2.instance",
        resource_id="i-1",
        attributes_json=attributes,
        observed_at=NOW,
        sweep_id="s",
        tags={"Name": "a"},
        name="a",
    )


def test_item_shape() -> None:
    item = inventory_item(observation('{"a":1}'))
    assert item["shard"] == {"S": "111111111111/us-east-1/ec2.instance"}
    assert item["tags"] == {"M": {"Name": {"S": "a"}}}
    assert item["attributes"] == {"S": '{"a":1}'}
    # A live item never expires: only tombstones get a TTL.
    assert "expires_at" not in item
    assert int(item["observed_at_ms"]["N"]) == int(NOW.timestamp() * 1000)


def test_large_attributes_are_compressed_not_dropped() -> None:
    big = json.dumps({"k": ["x" * 100] * (ATTRIBUTES_INLINE_LIMIT // 50)})
    item = inventory_item(observation(big))
    assert "attributes" not in item
    assert zlib.decompress(item["attributes_z"]["B"]).decode() == big


def test_an_observation_too_large_for_kafka_keeps_identity_and_a_marker() -> None:
    from fleetstream.serde.wire import decode_resource_event, encode_observation_within

    big = json.dumps({"blob": "x" * 2_000_000})
    data = encode_observation_within(observation(big), 900_000)
    assert len(data) < 900_000
    decoded = decode_resource_event(data)
    assert isinstance(decoded, Observation)
    assert decoded.arn == observation(big).arn
    assert decoded.tags == {"Name": "a"}
    marker = json.loads(decoded.attributes_json)
    assert marker["fleetstream:truncated"] is True
    assert marker["original_bytes"] == len(big)
