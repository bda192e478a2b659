"""The chaos harness' attribute check, on items shaped like the sink's (no servers needed)."""

from __future__ import annotations

import json
import zlib
from typing import Any

from tests.chaos.attributes import differing_attributes

MOTO = {
    "InstanceId": "i-1",
    "State": {"Code": 16, "Name": "running"},
    "NetworkInterfaces": [{"Attachment": {"AttachTime": "2026-12-01T00:00:00Z"}}],
}


def item(attributes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"attributes": {"S": json.dumps(attributes)}, **extra}


def test_equal_attributes_pass_whatever_the_volatile_fields() -> None:
    moved = {**MOTO, "NetworkInterfaces": [{"Attachment": {"AttachTime": "2026-12-02"}}]}
    assert differing_attributes({"i-1": item(moved)}, {"i-1": MOTO}) == []


def test_a_stale_attribute_is_found_though_id_and_tags_agree() -> None:
    stale = {**MOTO, "State": {"Code": 80, "Name": "stopped"}}
    assert differing_attributes({"i-1": item(stale)}, {"i-1": MOTO}) == [
        "i-1: State.Code stored 80 described 16"
    ]


def test_compressed_attributes_are_compared_too() -> None:
    packed = zlib.compress(json.dumps({**MOTO, "ImageId": "ami-2"}).encode())
    assert differing_attributes({"i-1": {"attributes_z": {"B": packed}}}, {"i-1": MOTO}) == [
        "i-1: ImageId stored 'ami-2' described None"
    ]


def test_tombstones_and_items_moto_no_longer_lists_are_left_to_the_deletion_checks() -> None:
    gone = item({"InstanceId": "i-2"}, deleted_at={"S": "2026-12-02T00:00:00Z"})
    kept = item({"InstanceId": "i-3"})
    assert differing_attributes({"i-2": gone, "i-3": kept}, {"i-1": MOTO}) == []
