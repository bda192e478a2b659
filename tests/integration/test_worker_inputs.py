"""What a worker reads is untrusted and its partitions move: on the real stack, nothing stalls.

- Held pages (a retried page waiting on work-retry) are described when due, also after their
  partition moved to another describer and came back (rebalances).
- A sweep page that goes to the DLQ for a non-AWS error still ends its shard: FAILED, with
  the reason, so the sweep finishes (long-running describer and Lambda driver).
- A bad `fs.not-before` header (not a number, or years ahead) sends its record to the DLQ and
  the next record of the partition is processed (describer, actor, Lambda driver).
"""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Message

from consumers.describer.main import make_dead_letter_follow_up, make_handler
from devstack import StackEndpoints
from devstack.seed import Estate, EstateSpec, seed_estate
from fleetstream.actions.models import ActionStep, Target
from fleetstream.actions.wire import decode_result, encode_step
from fleetstream.apps.lambda_mode.driver import DescriberBatch
from fleetstream.apps.lambda_mode.event import event_record, to_event
from fleetstream.base.config import Settings
from fleetstream.base.models import ShardOutcome, ShardStatus, WorkItem, utc_now
from fleetstream.kafka import clients as kafka
from fleetstream.runtime.loop import NOT_BEFORE_HEADER, epoch_ms_header
from fleetstream.runtime.records import Headers
from fleetstream.runtime.workers import Worker, WorkerPool
from fleetstream.serde.avro import codec
from fleetstream.serde.wire import decode_resource_event, encode_work_item
from tests.integration.helpers import read_topic, settings_for, sweep

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
HELD_PAGES = 12
# Long enough for three more describers to join and leave while the pages are held.
HOLD_S = 60


def small_estate(stack: StackEndpoints) -> Estate:
    assert stack.aws_endpoint
    return seed_estate(
        stack.aws_endpoint,
        EstateSpec(member_accounts=1, regions=(REGION,), instances_per_region=2, paged_region=None),
    )


def page(estate: Estate, sweep_id: str, not_before: datetime | None = None) -> WorkItem:
    """The first page of the estate's EC2 shard, as a sweep of its own."""
    account = estate.accounts[0]
    now = utc_now()
    return WorkItem(
        sweep_id=sweep_id,
        account_id=account.account_id,
        region=REGION,
        resource_type="ec2.instance",
        shard_started_at=now,
        issued_at=now,
        attempt=0 if not_before is None else 1,
        not_before=not_before,
    )


def produce(
    settings: Settings, topic: str, records: Sequence[tuple[bytes, bytes, Headers]]
) -> None:
    producer = kafka.make_producer(settings.kafka)
    for key, value, headers in records:
        producer.produce(topic, value, key, headers=headers)
    assert producer.flush(10) == 0


def outcomes(settings: Settings) -> dict[str, ShardOutcome]:
    """The shard outcomes on the resources topic, by sweep id."""
    events = (decode_resource_event(m.value()) for m in read_topic(settings, resources(settings)))
    return {e.sweep_id: e for e in events if isinstance(e, ShardOutcome)}


def dead_letters(settings: Settings) -> dict[bytes, dict[str, bytes]]:
    """The DLQ's records' headers, by the original record's key."""
    return {
        m.key(): dict(m.headers())
        for m in read_topic(settings, settings.kafka.topic("dlq"), idle_s=1.0)
    }


def resources(settings: Settings) -> str:
    return settings.kafka.topic("resources")


def wait_for(
    what: str, found: Callable[[], bool], workers: Sequence[Worker], timeout_s: float
) -> None:
    """Wait until found() holds; fail with the workers' logs when it does not in time."""
    deadline = time.monotonic() + timeout_s
    while not found():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.role}-{w.index}:\n{w.tail(20)}" for w in workers)
            pytest.fail(f"{what}: not within {timeout_s:g}s\n{logs}")
        time.sleep(0.5)


def rebalance_by_more_describers(pool: WorkerPool, settings: Settings) -> None:
    """Three describers join and leave again: while four share the group's 12 partitions
    (work, work-retry, refresh: 4 each), the first keeps 3 of them, so at least one work-retry
    partition it held moves away, and comes back when they leave."""
    group = settings.describer.group_id
    first = pool.workers[0]
    pool.start("describer", 3)
    assert kafka.wait_for_group(settings.kafka, group, 4, 120), "the describers never joined"
    others = [w for w in pool.workers if w is not first]
    for worker in others:
        worker.process.send_signal(signal.SIGTERM)
    for worker in others:
        assert worker.process.wait(timeout=60) == 0
        pool.workers.remove(worker)
    assert kafka.wait_for_group(settings.kafka, group, 1, 120), "the group never settled back"


def test_held_pages_are_described_when_due_across_rebalances(
    local_stack: StackEndpoints, pipeline: Settings, monkeypatch: pytest.MonkeyPatch, log_dir: Path
) -> None:
    estate = small_estate(local_stack)
    settings = settings_for(monkeypatch, estate)
    kafka.ensure_topics(settings.kafka)
    pool = WorkerPool(None, log_dir)
    try:
        pool.start("describer", 1)
        assert kafka.wait_for_group(settings.kafka, settings.describer.group_id, 1, 90)
        due = utc_now() + timedelta(seconds=HOLD_S)
        held = [f"held-{i}" for i in range(HELD_PAGES)]
        # One key each, so the held pages spread over every work-retry partition.
        produce(
            settings,
            settings.kafka.topic("work-retry"),
            [(s.encode(), encode_work_item(page(estate, s, due)), held_header(due)) for s in held],
        )
        # A page produced after them and described: the describer has read (and held) them.
        produce(
            settings,
            settings.kafka.topic("work"),
            [(b"p", encode_work_item(page(estate, "probe")), [])],
        )
        wait_for(
            "the probe page described", lambda: "probe" in outcomes(settings), pool.workers, 90
        )

        rebalance_by_more_describers(pool, settings)
        assert utc_now() < due, f"the rebalances outlasted the {HOLD_S}s hold: raise HOLD_S"

        def all_described() -> bool:
            return set(held) <= set(outcomes(settings))

        wait_for("every held page described once due", all_described, pool.workers, HOLD_S + 60)
    finally:
        pool.stop()
    described = outcomes(settings)
    assert all(described[s].status is ShardStatus.COMPLETE for s in held)
    # Held until due: none was described before its time.
    assert all(described[s].finished_at >= due for s in held)


def held_header(due: datetime) -> Headers:
    return [(NOT_BEFORE_HEADER, epoch_ms_header(due))]


def bad_header_records(estate: Estate) -> list[tuple[bytes, bytes, Headers]]:
    """Per key, a page with a bad due time, then a good page behind it on its partition."""
    years_ahead = epoch_ms_header(datetime(2099, 1, 1, tzinfo=UTC))
    return [
        (b"k1", encode_work_item(page(estate, "not-a-number")), [(NOT_BEFORE_HEADER, b"soon")]),
        (b"k1", encode_work_item(page(estate, "after-not-a-number")), []),
        (b"k2", encode_work_item(page(estate, "years-ahead")), [(NOT_BEFORE_HEADER, years_ahead)]),
        (b"k2", encode_work_item(page(estate, "after-years-ahead")), []),
    ]


def assert_bad_header_pages_dead_lettered(
    settings: Settings, also_dead: frozenset[bytes] | set[bytes] = frozenset()
) -> None:
    described = outcomes(settings)
    for sweep_id in ("after-not-a-number", "after-years-ahead"):
        assert described[sweep_id].status is ShardStatus.COMPLETE
    # The dead-lettered pages still end their shards, with the reason.
    for sweep_id, reason in (("not-a-number", "not a number"), ("years-ahead", "ahead")):
        assert described[sweep_id].status is ShardStatus.FAILED
        assert described[sweep_id].error_code == "DeadLettered"
        assert reason in (described[sweep_id].reason or "")
    dead = dead_letters(settings)
    assert set(dead) == {b"k1", b"k2"} | also_dead
    for key, headers in dead.items():
        assert headers["fs.error.class"] == b"PoisonMessageError"
        if key not in also_dead:
            assert NOT_BEFORE_HEADER.encode() in headers["fs.error.message"]


def test_a_bad_due_time_goes_to_the_dlq_and_the_describer_goes_on(
    local_stack: StackEndpoints, pipeline: Settings, monkeypatch: pytest.MonkeyPatch, log_dir: Path
) -> None:
    estate = small_estate(local_stack)
    settings = settings_for(monkeypatch, estate)
    kafka.ensure_topics(settings.kafka)
    pool = WorkerPool(None, log_dir)
    try:
        pool.start("describer", 1)
        produce(settings, settings.kafka.topic("work-retry"), bad_header_records(estate))

        def went_on() -> bool:
            return {"after-not-a-number", "after-years-ahead"} <= set(outcomes(settings))

        wait_for("the pages behind the bad ones described", went_on, pool.workers, 120)
        assert all(w.process.poll() is None for w in pool.workers), "a describer exited"
    finally:
        pool.stop()
    assert_bad_header_pages_dead_lettered(settings)


def test_a_bad_due_time_goes_to_the_dlq_and_the_actor_goes_on(
    local_stack: StackEndpoints, pipeline: Settings, monkeypatch: pytest.MonkeyPatch, log_dir: Path
) -> None:
    estate = small_estate(local_stack)
    settings = settings_for(monkeypatch, estate)
    kafka.ensure_topics(settings.kafka)
    account = estate.accounts[0].account_id
    gone = "i-0123456789abcdef0"

    def step(request_id: str) -> bytes:
        return encode_step(
            ActionStep(
                request_id=request_id,
                submission_id="first",
                action="stop",
                params={},
                account_id=account,
                region=REGION,
                resource_type="ec2.instance",
                step_id=f"{account}/{REGION}/0",
                step="batch",
                targets=(Target(f"arn:aws:ec2:{REGION}:{account}:instance/{gone}", gone),),
                requested_by="test",
                issued_at=utc_now(),
            )
        )

    after = f"req-{uuid.uuid4().hex[:8]}"
    key = f"{account}/{REGION}/ec2".encode()
    pool = WorkerPool(None, log_dir)
    try:
        pool.start("actor", 1)
        produce(
            settings,
            settings.kafka.topic("action-delay"),
            [
                (key, step("req-bad"), [(NOT_BEFORE_HEADER, b"soon")]),
                (key, step(after), []),
            ],
        )

        def done() -> bool:
            return after in results_of(settings)

        wait_for("the step behind the bad one done", done, pool.workers, 120)
        assert all(w.process.poll() is None for w in pool.workers), "the actor exited"
    finally:
        pool.stop()
    [dead] = read_topic(settings, settings.kafka.topic("dlq"), idle_s=1.0)
    headers = dict(dead.headers())
    assert headers["fs.error.class"] == b"PoisonMessageError"
    assert headers["fs.original.topic"] == settings.kafka.topic("action-delay").encode()
    assert "req-bad" not in results_of(settings)


def results_of(settings: Settings) -> set[str]:
    topic = settings.kafka.topic("action-results")
    return {decode_result(m.value()).request_id for m in read_topic(settings, topic, idle_s=1.0)}


def test_a_sweep_page_dead_lettered_fails_its_shard_and_the_sweep_ends(
    local_stack: StackEndpoints, pipeline: Settings, monkeypatch: pytest.MonkeyPatch, log_dir: Path
) -> None:
    """A planner that knows a resource type its describers do not (a rolling deploy): the
    describers dead-letter that shard's page (PoisonMessageError, not an AWS error)."""
    estate = small_estate(local_stack)
    planner = settings_for(
        monkeypatch, estate, FLEETSTREAM_RESOURCE_TYPES='["ec2.instance", "sqs.queue"]'
    )
    monkeypatch.setenv("FLEETSTREAM_RESOURCE_TYPES", '["ec2.instance"]')  # the workers' catalog

    result = sweep(planner, log_dir)

    assert result.progress.finished, result.progress
    by_type = {s.resource_type: s for s in result.progress.shards}
    assert by_type["ec2.instance"].status is ShardStatus.COMPLETE
    assert by_type["sqs.queue"].status is ShardStatus.FAILED
    assert by_type["sqs.queue"].error_code == "DeadLettered"
    assert "not in the catalog" in (by_type["sqs.queue"].reason or "")


def test_lambda_describer_dead_letters_bad_input_and_ends_the_shards(
    local_stack: StackEndpoints, pipeline: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    estate = small_estate(local_stack)
    settings = settings_for(monkeypatch, estate)
    kafka.ensure_topics(settings.kafka)
    retry = settings.kafka.topic("work-retry")
    records = [
        *bad_header_records(estate),
        (b"k3", with_page_token(encode_work_item(page(estate, "bad-token")), "{oops"), []),
    ]
    produce(settings, retry, records)
    batch = read_topic(settings, retry, idle_s=1.0)
    assert len(batch) == len(records)
    describe = DescriberBatch(
        make_handler(settings),
        kafka.make_producer(settings.kafka),
        group=settings.describer.group_id,
        dlq_topic=settings.kafka.topic("dlq"),
        concurrency=2,
        dead_letter_follow_up=make_dead_letter_follow_up(settings),
    )

    response = describe(event_of(batch), lambda: 300_000)

    assert response == {"batchItemFailures": []}
    # A page whose token is unreadable still ends its shard (decoded without the token).
    bad_token = outcomes(settings)["bad-token"]
    assert (bad_token.status, bad_token.error_code) == (ShardStatus.FAILED, "DeadLettered")
    assert "page_token" in (bad_token.reason or "")
    assert_bad_header_pages_dead_lettered(settings, also_dead={b"k3"})


def with_page_token(data: bytes, token: str) -> bytes:
    """A work item whose page token is not what the describer wrote (not JSON)."""
    work_item = codec("work_item")
    return work_item.encode({**work_item.decode(data), "page_token": token})


def event_of(batch: list[Message]) -> dict[str, Any]:
    return to_event((event_record(m) for m in batch), "arn:aws:kafka:us-east-1:1:cluster/x/y")
