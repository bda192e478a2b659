"""Untrusted worker input: due-time headers, and the outcome of a dead-lettered sweep page."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from consumers.describer.handler import DEAD_LETTERED, dead_lettered_outcome
from fleetstream.base.errors import PoisonMessageError
from fleetstream.base.models import ShardStatus, WorkItem
from fleetstream.runtime.loop import MAX_HOLD_MS, NOT_BEFORE_HEADER, handle_or_park, not_before_ms
from fleetstream.runtime.records import Headers, OutRecord
from fleetstream.serde.avro import codec
from fleetstream.serde.wire import decode_work_item, decode_work_item_shard, encode_work_item

pytestmark = pytest.mark.unit

NOW_MS = 1_800_000_000_000
AT = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


@dataclass
class FakeMessage:
    headers_: Headers = field(default_factory=list)
    value_: bytes | None = b""

    def headers(self) -> Headers:
        return self.headers_

    def value(self) -> bytes | None:
        return self.value_

    def key(self) -> bytes:
        return b"k"

    def topic(self) -> str:
        return "work-retry"

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return 7

    def timestamp(self) -> tuple[int, int]:
        return (1, NOW_MS)


def due(value: bytes) -> int | None:
    return not_before_ms(FakeMessage([(NOT_BEFORE_HEADER, value)]), NOW_MS)  # type: ignore[arg-type]


def test_a_due_time_is_epoch_milliseconds() -> None:
    assert not_before_ms(FakeMessage(), NOW_MS) is None  # type: ignore[arg-type]
    assert due(str(NOW_MS + 5_000).encode()) == NOW_MS + 5_000
    assert due(b"0") == 0  # in the past: due now
    assert due(str(NOW_MS + MAX_HOLD_MS).encode()) == NOW_MS + MAX_HOLD_MS


@pytest.mark.parametrize("value", [b"soon", b"", b"1.5e12", b"\xff\xfe", b"12 34"])
def test_a_due_time_that_is_not_an_integer_is_poison(value: bytes) -> None:
    with pytest.raises(PoisonMessageError, match="not a number"):
        due(value)


@pytest.mark.parametrize("ahead_ms", [MAX_HOLD_MS + 1, 10 * 365 * 86_400_000, 10**30])
def test_a_due_time_too_far_ahead_is_poison(ahead_ms: int) -> None:
    with pytest.raises(PoisonMessageError, match="days ahead"):
        due(str(NOW_MS + ahead_ms).encode())


def test_handle_or_park_dead_letters_a_bad_header_with_the_follow_up() -> None:
    calls: list[Any] = []

    def handler(_message: Any) -> list[OutRecord]:
        calls.append("handled")
        return []

    def follow_up(_message: Any, error: BaseException) -> list[OutRecord]:
        return [OutRecord("resources", b"shard", str(error).encode())]

    message = FakeMessage([(NOT_BEFORE_HEADER, b"soon")], b"value")
    records = handle_or_park(
        handler,
        message,  # type: ignore[arg-type]
        group="describer",
        dlq_topic="dlq",
        follow_up=follow_up,
    )
    assert calls == []
    dead, outcome = records
    assert dead.topic == "dlq"
    assert dict(dead.headers)["fs.error.class"] == b"PoisonMessageError"
    assert outcome.topic == "resources"
    assert b"not a number" in (outcome.value or b"")


def page(**changes: Any) -> WorkItem:
    item = WorkItem(
        sweep_id="s1",
        account_id="111111111111",
        region="eu-west-1",
        resource_type="ec2.instance",
        shard_started_at=AT,
        issued_at=AT,
        page_token={"NextToken": "abc"},
        page_number=3,
        resources_so_far=1500,
    )
    return replace(item, **changes)


def test_a_dead_lettered_sweep_page_fails_its_shard_with_the_reason() -> None:
    outcome = dead_lettered_outcome(page(), PoisonMessageError("boom"), AT)
    assert outcome is not None
    assert (outcome.sweep_id, outcome.status, outcome.error_code) == (
        "s1",
        ShardStatus.FAILED,
        DEAD_LETTERED,
    )
    assert (outcome.resource_count, outcome.pages, outcome.finished_at) == (1500, 4, AT)
    assert outcome.reason == "page 3 went to the DLQ: PoisonMessageError: boom"


def test_a_dead_lettered_refresh_ends_no_shard() -> None:
    assert dead_lettered_outcome(page(resource_ids=("i-1",)), ValueError("x"), AT) is None


def test_a_work_item_decodes_without_its_page_token() -> None:
    work_item = codec("work_item")
    data = work_item.encode({**work_item.decode(encode_work_item(page())), "page_token": "{oops"})
    with pytest.raises(PoisonMessageError, match="page_token"):
        decode_work_item(data)
    assert decode_work_item_shard(data) == page(page_token=None)
    with pytest.raises(PoisonMessageError):
        decode_work_item_shard(b"\x00garbage")
