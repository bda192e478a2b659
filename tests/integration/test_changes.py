"""The change stream and the compacted state topic, on the real stack."""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from consumers.sink.changes import SinkOutput
from consumers.sink.deletions import Tombstoner
from consumers.sink.main import build
from consumers.sink.store import InventoryStore
from devstack import StackEndpoints
from devstack.seed import SEED_AMI, EstateSpec, seed_estate
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.models import ShardOutcome, ShardStatus, utc_now
from fleetstream.inventory.dynamodb import Tables
from fleetstream.inventory.read import scan_items
from fleetstream.kafka.clients import ensure_topics
from fleetstream.serde.wire import (
    ChangeEvent,
    ChangeType,
    decode_change_event,
    decode_resource_state,
    encode_resource_event,
)
from tests.integration.helpers import (
    ACCOUNT,
    member_client,
    produce_raw,
    read_topic,
    seen_marks,
    settings_for,
    sweep,
)
from tests.integration.helpers import ec2_observation as observation

pytestmark = pytest.mark.integration
REGIONS = ("us-east-1", "eu-west-1")


def changes(settings: Settings) -> list[ChangeEvent]:
    return [
        decode_change_event(m.value())
        for m in read_topic(settings, settings.kafka.topic("changes"))
    ]


def compacted_state(settings: Settings) -> dict[str, tuple[str, dict[str, str]]]:
    """The state topic read from the beginning, last value per key, null = deleted."""
    latest: dict[str, Any] = {}
    for message in read_topic(settings, settings.kafka.topic("state")):
        latest[message.key().decode()] = message.value()
    state: dict[str, tuple[str, dict[str, str]]] = {}
    for arn, value in latest.items():
        if value is not None:
            decoded = decode_resource_state(value)
            assert decoded.observation.arn == arn
            state[arn] = (decoded.fingerprint, dict(decoded.observation.tags))
    return state


def live_inventory(settings: Settings) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        item["arn"]["S"]: (
            item["fingerprint"]["S"],
            {k: v["S"] for k, v in item["tags"]["M"].items()},
        )
        for item in scan_items(dynamodb_client(settings), settings.sink.table)
        if "deleted_at_ms" not in item
    }


def test_exactly_the_changes_of_the_estate_are_emitted_and_state_rebuilds_it(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate = seed_estate(
        endpoint,
        EstateSpec(member_accounts=1, regions=REGIONS, instances_per_region=3, paged_region=None),
    )
    settings = settings_for(monkeypatch, estate)
    sweep(settings, log_dir, ok=True)
    first = changes(settings)
    assert sorted(e.resource_id for e in first) == sorted(i.instance_id for i in estate.instances)
    assert {e.change_type for e in first} == {ChangeType.CREATED}
    assert compacted_state(settings) == live_inventory(settings)

    account = estate.accounts[0].account_id
    ec2 = member_client(endpoint, account, "ec2", "us-east-1")
    modified, terminated = (i.instance_id for i in estate.instances_of(account, "us-east-1")[:2])
    created = ec2.run_instances(
        ImageId=SEED_AMI,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Team", "Value": "new"}]}],
    )["Instances"][0]["InstanceId"]
    ec2.create_tags(Resources=[modified], Tags=[{"Key": "Team", "Value": "changed"}])
    ec2.modify_instance_attribute(InstanceId=modified, InstanceType={"Value": "t3.large"})
    ec2.terminate_instances(InstanceIds=[terminated])

    second = sweep(settings, log_dir, ok=True)
    events = changes(settings)
    new = [e for e in events if e.sweep_id == second.progress.sweep_id]
    assert len(events) == len(first) + len(new)
    by_id = {e.resource_id: e for e in new}
    assert len(new) == 3, new
    assert by_id[created].change_type is ChangeType.CREATED
    assert by_id[created].tags == {"Team": "new"}
    assert by_id[created].old_fingerprint is None and by_id[created].new_fingerprint

    change = by_id[modified]
    assert change.change_type is ChangeType.MODIFIED
    assert "InstanceType" in change.changed_paths
    assert "tags.Team" in change.changed_paths
    assert any(p.startswith("Tags[") for p in change.changed_paths)
    assert set(change.changed_paths) <= {"InstanceType", "tags.Team"} | {
        p for p in change.changed_paths if p.startswith("Tags[")
    }, change.changed_paths
    assert change.old_fingerprint != change.new_fingerprint
    assert change.tags is not None and change.tags["Team"] == "changed"
    assert change.previous_observed_at is not None
    assert change.previous_observed_at < change.observed_at
    assert '"t3.large"' in (change.attributes_json or "")

    gone = by_id[terminated]
    assert gone.change_type is ChangeType.DELETED
    assert gone.new_fingerprint is None and gone.old_fingerprint
    assert gone.attributes_json is None
    # Per ARN, each fingerprint chain links up: old of a change = new of the one before.
    last: dict[str, str | None] = {}
    for event in events:
        assert event.old_fingerprint == last.get(event.arn), event
        last[event.arn] = event.new_fingerprint
    state = compacted_state(settings)
    assert state == live_inventory(settings)
    assert gone.arn not in state and by_id[created].arn in state

    # Describing the unchanged estate again changes nothing.
    sweep(settings, log_dir, ok=True)
    assert len(changes(settings)) == len(events)
    assert compacted_state(settings) == live_inventory(settings)


# Recent: deletion uses seen marks only while they are younger than sink.seen_retention_s.
T0 = (utc_now() - timedelta(days=1)).replace(second=0, microsecond=0)


def kinds(outputs: list[SinkOutput]) -> list[tuple[str, str | None, bool]]:
    return [
        (o.arn.rsplit("/", 1)[1], o.change.change_type.value if o.change else None, o.deleted)
        for o in outputs
    ]


def test_a_batch_redelivered_after_its_writes_emits_its_changes_again(pipeline: Settings) -> None:
    """The crash window: DynamoDB written, the sink dies before its records reach Kafka."""
    client = dynamodb_client(pipeline)
    Tables(client, pipeline.sink.table, pipeline.sink.sweeps_table).ensure()
    seen = seen_marks(pipeline)
    store = InventoryStore(client, pipeline.sink.table, seen)
    t1, t2, t3 = T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)

    batch = [observation("i-1", t1, "small"), observation("i-2", t1, "small")]
    emitted = store.apply(batch).outputs
    assert kinds(emitted) == [("i-1", "CREATED", False), ("i-2", "CREATED", False)]
    # ... crash: nothing was produced. The redelivered batch emits the same records.
    again = store.apply(batch).outputs
    assert again == emitted
    # And a third time (a crash during the redelivery): the rewrite kept what to re-emit.
    assert store.apply(batch).outputs == emitted

    # A change, then a crash, then a redelivery that also holds the next sweep's observations:
    # the lost change is emitted first, then the change after it, in order.
    changed = [observation("i-1", t2, "large"), observation("i-2", t2, "small")]
    lost = store.apply(changed).outputs
    assert kinds(lost) == [("i-1", "MODIFIED", False)]
    assert lost[0].change is not None and lost[0].change.changed_paths == ("InstanceType",)
    later = [observation("i-1", t3, "huge"), observation("i-2", t3, "small")]
    redelivered = store.apply(changed + later).outputs
    assert kinds(redelivered) == [("i-1", "MODIFIED", False), ("i-1", "MODIFIED", False)]
    assert redelivered[0] == lost[0]
    second = redelivered[1].change
    assert second is not None and second.old_fingerprint == lost[0].change.new_fingerprint
    # Once delivered, the next sweep's unchanged observations emit nothing.
    assert store.apply([observation("i-1", t3 + timedelta(hours=1), "huge")]).outputs == []

    # Deletion: a tombstone written, a crash, the outcome redelivered: DELETED again.
    tombstoner = Tombstoner(client, pipeline.sink.table, timedelta(days=1), seen, margin_ms=2000)
    outcome = ShardOutcome(
        sweep_id="sweep-gone",
        account_id=ACCOUNT,
        region="us-east-1",
        resource_type="ec2.instance",
        status=ShardStatus.COMPLETE,
        resource_count=1,
        pages=1,
        shard_started_at=t3 + timedelta(minutes=30),
        finished_at=t3 + timedelta(minutes=31),
        described_from=t3 + timedelta(minutes=30),
    )
    deleted = tombstoner.sweep_shard(outcome)
    assert [d.resource_id for d in deleted] == ["i-2"]
    assert tombstoner.sweep_shard(outcome) == deleted
    # A later complete shard does not delete it twice.
    later_outcome = replace(
        outcome,
        sweep_id="sweep-later",
        shard_started_at=t3 + timedelta(hours=5),
        finished_at=t3 + timedelta(hours=5, minutes=1),
        described_from=t3 + timedelta(hours=5),
    )
    assert [d.resource_id for d in tombstoner.sweep_shard(later_outcome)] == ["i-1"]
    # A resource back after its tombstone is CREATED again.
    back = store.apply([observation("i-2", t3 + timedelta(hours=6), "small")]).outputs
    assert kinds(back) == [("i-2", "CREATED", False)]


class SinkCrashError(Exception):
    """The sink dies after its DynamoDB writes, before its records reach Kafka."""


def test_a_sink_dying_between_dynamodb_and_kafka_loses_no_change(pipeline: Settings) -> None:
    ensure_topics(pipeline.kafka)
    observations = [observation(f"i-{n}", T0, "small") for n in range(3)]
    produce_raw(
        pipeline,
        pipeline.kafka.topic("resources"),
        [(str(o.shard).encode(), encode_resource_event(o)) for o in observations],
    )
    dying = build(pipeline)
    write = dying.writer

    def write_then_die(batch: list[Any]) -> list[Any]:
        write(batch)
        raise SinkCrashError

    dying.writer = write_then_die
    with pytest.raises(SinkCrashError):
        dying.run()
    assert {o.arn for o in observations} <= set(live_inventory(pipeline))
    assert changes(pipeline) == []

    successor = build(pipeline)
    worker = threading.Thread(target=successor.run, daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while len(events := changes(pipeline)) < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        successor.stop()
        worker.join(30)
        # Free both sinks' clients here, not in a later test's garbage collection: the loop
        # and its writer closure form a cycle only the cyclic collector frees.
        for sink in (dying, successor):
            sink.producer.flush(10)
        del dying, successor
        gc.collect()
    assert sorted((e.resource_id, e.change_type) for e in events) == [
        (f"i-{n}", ChangeType.CREATED) for n in range(3)
    ]
    assert compacted_state(pipeline) == live_inventory(pipeline)
