"""Seen-mark keys name their content: a differently cut batch never overwrites a mark."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from consumers.sink.seen import SeenMarks, arn_digest, part_name, unpack
from fleetstream.base.models import Observation

pytestmark = pytest.mark.unit
AT = datetime(2026, 12, 1, 12, tzinfo=UTC)


class KeyedTable:
    """Just enough of a DynamoDB table for SeenMarks.record: puts by (shard, mark)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def batch_write_item(self, RequestItems: dict[str, Any], **_: Any) -> dict[str, Any]:  # noqa: N803
        for requests in RequestItems.values():
            for request in requests:
                item = request["PutRequest"]["Item"]
                self.items[(item["shard"]["S"], item["mark"]["S"])] = item
        return {}


def seen(resource_id: str) -> Observation:
    arn = f"arn:aws:ec2:us-east-1:111111111111:instance/{resource_id}"
    account = "111111111111"
    return Observation(arn, account, "us-east-1", "ec2.instance", resource_id, "{}", AT, "s1")


def same_ends_other_middle() -> tuple[list[Observation], list[Observation]]:
    """Two batches of three: same lowest and highest digest, a different one between."""
    pool = sorted((seen(f"i-{n}") for n in range(50)), key=lambda o: arn_digest(o.arn))
    low, middle_a, middle_b, high = pool[0], pool[10], pool[20], pool[-1]
    return [low, middle_a, high], [low, middle_b, high]


def test_differently_cut_batches_with_the_same_ends_and_count_write_two_marks() -> None:
    table = KeyedTable()
    marks = SeenMarks(table, "seen", 7 * 86400)
    new_owner, zombie = same_ends_other_middle()
    marks.record(new_owner)
    marks.record(zombie)  # a zombie sink's late batch of the same page, cut differently
    held = {d for item in table.items.values() for d in unpack(item["arns"]["B"])}
    assert len(table.items) == 2
    assert {arn_digest(o.arn) for o in new_owner + zombie} <= held


def test_a_part_name_depends_on_every_digest_and_only_on_them() -> None:
    digests = sorted(arn_digest(f"arn:{n}") for n in range(5))
    assert part_name(digests) == part_name(list(digests))
    other = [*digests[:2], arn_digest("arn:other"), *digests[3:]]
    assert part_name(other) != part_name(digests)
