"""Lambda mode, pure parts: AWS's Kafka event format, partial batch responses, due records."""

from __future__ import annotations

import pytest
from confluent_kafka import TIMESTAMP_LOG_APPEND_TIME, Message

from fleetstream.apps.lambda_mode.driver import (
    DescriberBatch,
    first_failures,
    first_of_each_partition,
)
from fleetstream.apps.lambda_mode.event import batch_response, event_record, messages, to_event
from fleetstream.runtime.loop import NOT_BEFORE_HEADER, position

pytestmark = pytest.mark.unit

# The example of AWS's Lambda developer guide ("Using Lambda with Amazon MSK"), verbatim.
AWS_EXAMPLE = {
    "eventSource": "aws:kafka",
    "eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/vpc-2priv-2pub/"
    "751d2973-a626-431c-9d4e-d7975eb44dd7-2",
    "bootstrapServers": "b-2.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092,"
    "b-1.demo-cluster-1.a1bcde.c1.kafka.us-east-1.amazonaws.com:9092",
    "records": {
        "mytopic-0": [
            {
                "topic": "mytopic",
                "partition": 0,
                "offset": 15,
                "timestamp": 1545084650987,
                "timestampType": "CREATE_TIME",
                "key": "abcDEFghiJKLmnoPQRstuVWXyz1234==",
                "value": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==",
                "headers": [{"headerKey": [104, 101, 97, 100, 101, 114, 86, 97, 108, 117, 101]}],
            }
        ]
    },
}


def test_the_aws_example_event_decodes_to_a_message() -> None:
    [message] = messages(AWS_EXAMPLE)
    assert position(message) == ("mytopic", 0, 15)
    assert message.value() == b"Hello, this is a test."
    assert message.key() is not None
    assert message.headers() == [("headerKey", b"headerValue")]
    assert message.timestamp()[1] == 1545084650987


def test_headers_with_signed_bytes_absent_key_and_value_and_log_append_time() -> None:
    record = {
        "topic": "t",
        "partition": 3,
        "offset": 7,
        "timestamp": 5,
        "timestampType": "LOG_APPEND_TIME",
        "headers": [{"h": [-1, 0, 127]}, {"h": [1]}],
    }
    [message] = messages(to_event([record]))
    assert message.key() is None
    assert message.value() is None
    assert message.headers() == [("h", b"\xff\x00\x7f"), ("h", b"\x01")]
    assert message.timestamp() == (TIMESTAMP_LOG_APPEND_TIME, 5)


def test_a_record_that_is_not_base64_stays_a_record_for_the_dlq() -> None:
    record = {"topic": "t", "partition": 0, "offset": 1, "timestamp": 0, "value": "not base64!"}
    [message] = messages(to_event([record]))
    assert message.value() == b"not base64!"


def _message(topic: str, partition: int, offset: int, **headers: bytes) -> Message:
    return Message(
        topic=topic,
        partition=partition,
        offset=offset,
        key=b"k",
        value=b"v",
        headers=list(headers.items()),
        timestamp=(1, 1000),
    )


def test_event_records_round_trip_and_come_back_in_offset_order() -> None:
    batch = [_message("a", 1, 9), _message("a", 1, 8), _message("a", 0, 3, h=b"x")]
    decoded = messages(to_event(event_record(m) for m in batch))
    assert [position(m) for m in decoded] == [("a", 0, 3), ("a", 1, 8), ("a", 1, 9)]
    assert decoded[0].headers() == [("h", b"x")]


def test_the_partial_batch_response_names_the_lowest_failed_offset_per_partition() -> None:
    batch = [_message("w", 0, o) for o in (4, 5, 6)] + [_message("w", 1, o) for o in (1, 2)]
    failed = {("w", 0, 6), ("w", 0, 5), ("w", 1, 2)}
    assert batch_response(first_failures(batch, failed)) == {
        "batchItemFailures": [
            {"itemIdentifier": {"partition": "w-0", "offset": 5}},
            {"itemIdentifier": {"partition": "w-1", "offset": 2}},
        ]
    }
    assert first_of_each_partition(batch) == {("w", 0, 4), ("w", 1, 1)}
    assert batch_response([]) == {"batchItemFailures": []}


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_retried_pages_wait_within_the_invocation_or_are_left_for_lambda_to_redeliver() -> None:
    clock = _Clock()
    soon = str(int((clock.now + 10) * 1000)).encode()
    later = str(int((clock.now + 3600) * 1000)).encode()
    batch = [
        _message("r", 0, 1, **{NOT_BEFORE_HEADER: soon}),
        _message("r", 1, 1, **{NOT_BEFORE_HEADER: later}),
        _message("r", 1, 2),  # behind a held record: waits with it, in order
        _message("r", 2, 1),
    ]
    driver = DescriberBatch(
        lambda m: [],
        None,  # type: ignore[arg-type]  # _due never produces
        group="g",
        dlq_topic="dlq",
        concurrency=1,
        clock=clock.time,
        sleep=clock.sleep,
    )
    ready, held = driver._due(batch, remaining_ms=300_000)
    assert [position(m) for m in ready] == [("r", 0, 1), ("r", 2, 1)]
    assert held == {("r", 1, 1), ("r", 1, 2)}
    assert clock.slept == [pytest.approx(10.0)]
    # With 20 s left, a page due in 10 s no longer fits beside the delivery reserve; a page
    # already due runs whatever the time left.
    clock.slept.clear()
    due_now = _message("r", 0, 2, **{NOT_BEFORE_HEADER: soon})
    in_ten = str(int((clock.now + 10) * 1000)).encode()
    not_yet = _message("r", 3, 1, **{NOT_BEFORE_HEADER: in_ten})
    ready, held = driver._due([due_now, not_yet], remaining_ms=20_000)
    assert ready == [due_now] and held == {("r", 3, 1)}
    assert clock.slept == []
