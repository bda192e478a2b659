"""Avro framing and model round trips."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastavro.schema import fingerprint, to_parsing_canonical_form

from fleetstream.base.errors import PoisonMessageError
from fleetstream.base.models import Observation, ShardOutcome, ShardStatus, WorkItem
from fleetstream.serde.avro import AvroCodec, schemas_dir
from fleetstream.serde.wire import (
    decode_resource_event,
    decode_work_item,
    encode_resource_event,
    encode_work_item,
)

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 12, 0, 0, 123000, tzinfo=UTC)


def test_fingerprint_matches_the_avro_spec_byte_order() -> None:
    # The Avro specification's single-object example: "int" -> 8F 5C 39 3F 1A D5 75 72.
    assert fingerprint(to_parsing_canonical_form("int"), "CRC-64-AVRO") == "8f5c393f1ad57572"


def test_work_item_round_trip_keeps_the_page_token() -> None:
    item = WorkItem(
        sweep_id="s1",
        account_id="111111111111",
        account_name="prod",
        region="eu-west-1",
        resource_type="ec2.instance",
        page_token={"NextToken": "abc=="},
        page_number=3,
        resources_so_far=15,
        shard_started_at=NOW,
        issued_at=NOW,
    )
    data = encode_work_item(item)
    carried = replace(item, described_from=NOW)
    assert decode_work_item(encode_work_item(carried)) == carried
    assert data[:2] == b"\xc3\x01"
    assert decode_work_item(data) == item


def test_observation_and_outcome_round_trip() -> None:
    observation = Observation(
        arn="arn:aws:ec2:eu-west-1:111111111111:instance/i-1",
        account_id="111111111111",
        region="eu-west-1",
        resource_type="ec2.instance",
        resource_id="i-1",
        attributes_json='{"InstanceId":"i-1"}',
        observed_at=NOW,
        sweep_id="s1",
        name="web",
        tags={"Name": "web", "Team": "x"},
    )
    outcome = ShardOutcome(
        sweep_id="s1",
        account_id="111111111111",
        region="eu-west-1",
        resource_type="ec2.instance",
        status=ShardStatus.FAILED,
        resource_count=0,
        pages=1,
        shard_started_at=NOW,
        finished_at=NOW,
        error_code="RoleNotAssumable",
        reason="denied",
    )
    assert decode_resource_event(encode_resource_event(observation)) == observation
    assert decode_resource_event(encode_resource_event(outcome)) == outcome
    measured = replace(outcome, status=ShardStatus.COMPLETE, described_from=NOW)
    assert decode_resource_event(encode_resource_event(measured)) == measured


@pytest.mark.parametrize(
    "data",
    [None, b"", b"not avro at all", b"\xc3\x01" + b"\x00" * 8 + b"\x02", b"\xc3\x01\x01"],
)
def test_undecodable_bytes_are_poison(data: bytes | None) -> None:
    with pytest.raises(PoisonMessageError):
        decode_work_item(data)


def test_truncated_body_is_poison() -> None:
    item = WorkItem("s", "1", "r", "t", NOW, NOW)
    with pytest.raises(PoisonMessageError):
        decode_work_item(encode_work_item(item)[:-3])


def test_a_message_of_another_schema_is_poison() -> None:
    item = WorkItem("s", "1", "r", "t", NOW, NOW)
    with pytest.raises(PoisonMessageError, match="unknown resource_event schema"):
        decode_resource_event(encode_work_item(item))


def test_old_schema_versions_stay_readable(tmp_path: Path) -> None:
    v1 = json.loads((schemas_dir() / "work_item.v1.avsc").read_text())
    v2 = json.loads(json.dumps(v1))
    v2["fields"].append({"name": "priority", "type": "int", "default": 0})
    (tmp_path / "work_item.v1.avsc").write_text(json.dumps(v1))
    old = AvroCodec("work_item", tmp_path).encode(
        {
            "sweep_id": "s",
            "account_id": "1",
            "region": "r",
            "resource_type": "t",
            "shard_started_at": NOW,
            "issued_at": NOW,
        }
    )
    (tmp_path / "work_item.v2.avsc").write_text(json.dumps(v2))
    record = AvroCodec("work_item", tmp_path).decode(old)
    assert record["priority"] == 0
    assert record["sweep_id"] == "s"


def test_a_confluent_framed_value_without_a_registry_is_poison_with_the_reason() -> None:
    data = b"\x00" + (42).to_bytes(4, "big") + b"\x02"
    with pytest.raises(PoisonMessageError, match=r"schema id 42.*no schema registry"):
        decode_work_item(data)
