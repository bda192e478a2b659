"""Change detection, pure: fingerprints, volatile fields, changed paths, verdicts, records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from consumers.sink.changes import (
    Deletion,
    Emitted,
    StoredHead,
    Verdict,
    attribute_paths,
    change_id,
    changed_paths,
    compare,
    deleted_output,
    epoch_ms,
    fingerprint,
    judge,
    observation_fingerprint,
    output_for,
    tag_paths,
    volatile_fields,
    without_volatile,
)
from consumers.sink.main import to_records
from consumers.sink.store import bounded_paths, inventory_item
from fleetstream.base.models import Observation
from fleetstream.catalog.observe import canonical_json
from fleetstream.serde.wire import (
    ChangeType,
    decode_change_event,
    decode_resource_state,
    encode_change_event,
)

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ARN = "arn:aws:ec2:us-east-1:111111111111:instance/i-1"


def instance(**changes: object) -> dict[str, object]:
    item: dict[str, object] = {
        "InstanceId": "i-1",
        "InstanceType": "t3.micro",
        "State": {"Code": 16, "Name": "running"},
        "NetworkInterfaces": [
            {"NetworkInterfaceId": "eni-1", "Attachment": {"AttachTime": "2026-11-23T12:00:00"}}
        ],
        "Tags": [{"Key": "Team", "Value": "a"}],
    }
    item.update(changes)
    return item


def observation(item: dict[str, object], at: datetime = T0, **tags: str) -> Observation:
    return Observation(
        arn=ARN,
        account_id="111111111111",
        region="us-east-1",
        resource_type="ec2.instance",
        resource_id="i-1",
        attributes_json=canonical_json(item),
        observed_at=at,
        sweep_id=f"s-{at:%H%M}",
        tags=tags or {"Team": "a"},
    )


def test_volatile_fields_come_from_the_catalog_entry() -> None:
    assert volatile_fields("ec2.instance") == ("NetworkInterfaces[].Attachment.AttachTime",)
    assert volatile_fields("no.such_type") == ()


def test_removing_volatile_paths_handles_lists_and_missing_keys() -> None:
    document = {
        "a": 1,
        "b": {"c": 2, "d": 3},
        "l": [{"x": 1, "y": 2}, {"y": 3}, "scalar"],
        "gone": [1, 2],
    }
    stripped = without_volatile(document, ("b.c", "l[].y", "gone[]", "missing.path", "a.b"))
    assert stripped == {"a": 1, "b": {"d": 3}, "l": [{"x": 1}, {}, "scalar"]}
    assert document["b"] == {"c": 2, "d": 3}, "the input is not modified"


def test_a_volatile_change_keeps_the_fingerprint() -> None:
    volatile = volatile_fields("ec2.instance")
    before = canonical_json(instance())
    interfaces = [
        {"NetworkInterfaceId": "eni-1", "Attachment": {"AttachTime": "2026-11-24T08:00:00"}}
    ]
    after = canonical_json(instance(NetworkInterfaces=interfaces))
    assert before != after
    assert fingerprint(before, volatile) == fingerprint(after, volatile)
    assert attribute_paths(before, after, volatile) == []
    # Without the declaration it would flap.
    assert fingerprint(before, ()) != fingerprint(after, ())


def test_the_fingerprint_ignores_key_order_but_not_values() -> None:
    one = json.dumps({"a": 1, "b": [1, 2]})
    two = json.dumps({"b": [1, 2], "a": 1})
    assert fingerprint(one, ()) == fingerprint(two, ())
    assert fingerprint(one, ()) != fingerprint(json.dumps({"a": 1, "b": [2, 1]}), ())
    assert len(fingerprint(one, ())) == 64


def test_changed_paths_name_each_difference() -> None:
    old = {"a": 1, "b": {"c": 2, "d": [1, 2]}, "l": [{"k": "x"}, {"k": "y"}], "gone": True}
    new = {"a": 1, "b": {"c": 3, "d": [1, 2, 3]}, "l": [{"k": "x"}, {"k": "z"}], "new": None}
    assert changed_paths(old, new) == ["b.c", "b.d", "gone", "l[1].k", "new"]
    assert changed_paths(old, old) == []
    assert changed_paths({"a": 1}, {"a": "1"}) == ["a"]
    assert changed_paths([1], {"a": 1}) == ["$"]


def test_tag_paths() -> None:
    assert tag_paths({"a": "1", "b": "2"}, {"a": "1", "b": "3", "c": "4"}) == ["tags.b", "tags.c"]
    assert tag_paths({"a": "1"}, {}) == ["tags.a"]
    assert tag_paths({"a": "1"}, {"a": "1"}) == []


def test_unknown_old_attributes_mean_the_whole_item() -> None:
    assert attribute_paths(None, "{}", ()) == ["*"]


def test_judge_only_asks_for_old_attributes_when_the_fingerprint_differs() -> None:
    seen = observation(instance())
    fp = observation_fingerprint(seen)
    live = StoredHead(observed_ms=epoch_ms(T0), fingerprint=fp, tags={"Team": "a"})
    assert judge(None, seen, fp) is Verdict.CREATED
    tombstoned = StoredHead(observed_ms=1, absent_since_ms=2, deleted=True, fingerprint=fp)
    assert judge(tombstoned, seen, fp) is Verdict.CREATED
    assert judge(live, seen, fp) is Verdict.UNCHANGED
    assert judge(live, observation(instance(), Team="b"), fp) is Verdict.TAGS_CHANGED
    assert judge(live, seen, "other") is Verdict.COMPARE
    legacy = StoredHead(observed_ms=1, tags={"Team": "a"})
    assert judge(legacy, seen, fp) is Verdict.COMPARE


def test_compare_reports_attribute_and_tag_paths() -> None:
    old = observation(instance())
    new = observation(
        instance(InstanceType="t3.large", Tags=[{"Key": "Team", "Value": "b"}]),
        T0 + timedelta(hours=1),
        Team="b",
    )
    head = StoredHead(
        observed_ms=epoch_ms(T0), fingerprint=observation_fingerprint(old), tags={"Team": "a"}
    )
    found = compare(head, new, observation_fingerprint(new), old.attributes_json)
    assert found == Emitted(
        ChangeType.MODIFIED,
        ("InstanceType", "Tags[0].Value", "tags.Team"),
        observation_fingerprint(old),
        epoch_ms(T0),
    )
    # The same content again is no change.
    same = compare(head, old, observation_fingerprint(old), old.attributes_json)
    assert same is None


def test_a_legacy_item_gets_a_state_record_but_no_event_when_unchanged() -> None:
    seen = observation(instance())
    legacy = StoredHead(observed_ms=epoch_ms(T0) - 1, tags={"Team": "a"})
    found = compare(legacy, seen, observation_fingerprint(seen), seen.attributes_json)
    assert found == Emitted(None)
    output = output_for(seen, observation_fingerprint(seen), Emitted(None))
    assert output.change is None and output.state is not None and not output.deleted


def test_emitted_round_trips_through_its_json() -> None:
    emitted = Emitted(ChangeType.MODIFIED, ("a", "tags.b"), "f" * 64, 123)
    assert Emitted.from_json(emitted.to_json()) == emitted
    assert Emitted.from_json(Emitted(None).to_json()) == Emitted(None)


def test_change_ids_are_deterministic() -> None:
    one = change_id(ARN, ChangeType.MODIFIED, "a", "b", 1)
    assert one == change_id(ARN, ChangeType.MODIFIED, "a", "b", 1)
    assert one != change_id(ARN, ChangeType.MODIFIED, "a", "b", 2)
    assert one != change_id(ARN, ChangeType.CREATED, "a", "b", 1)


def test_many_paths_are_bounded() -> None:
    few = ("a.b", "c")
    assert bounded_paths(few) == few
    many = tuple(f"Top[{n}].Deep.Path.Name" for n in range(2000))
    assert bounded_paths(many) == ("Top",)
    assert bounded_paths(tuple(f"key{n}" * 50 for n in range(2000))) == ("*",)


def test_records_are_keyed_by_arn_with_events_state_and_tombstones() -> None:
    seen = observation(instance())
    fp = observation_fingerprint(seen)
    created = output_for(seen, fp, Emitted(ChangeType.CREATED))
    deleted = deleted_output(
        Deletion(
            arn=ARN,
            account_id="111111111111",
            account_name="prod",
            region="us-east-1",
            resource_type="ec2.instance",
            resource_id="i-1",
            name=None,
            sweep_id="s2",
            deleted_at=T0 + timedelta(hours=2),
            old_fingerprint=fp,
            previous_observed_ms=epoch_ms(T0),
        )
    )
    records = to_records([created, deleted], "changes", "state")
    assert [(r.topic, r.key, r.value is None) for r in records] == [
        ("changes", ARN.encode(), False),
        ("state", ARN.encode(), False),
        ("changes", ARN.encode(), False),
        ("state", ARN.encode(), True),
    ]
    event = decode_change_event(records[0].value)
    assert event.change_type is ChangeType.CREATED
    assert event.new_fingerprint == fp and event.old_fingerprint is None
    assert event.attributes_json == seen.attributes_json and event.tags == {"Team": "a"}
    state = decode_resource_state(records[1].value)
    assert state.observation == seen and state.fingerprint == fp
    gone = decode_change_event(records[2].value)
    assert gone.change_type is ChangeType.DELETED
    assert gone.old_fingerprint == fp and gone.new_fingerprint is None
    assert gone.previous_observed_at == T0 and gone.attributes_json is None


def test_a_change_event_too_large_for_kafka_leaves_out_its_attributes() -> None:
    seen = observation(instance(Blob="x" * 5000))
    event = output_for(seen, observation_fingerprint(seen), Emitted(ChangeType.CREATED)).change
    assert event is not None
    assert decode_change_event(encode_change_event(event)).attributes_json is not None
    small = decode_change_event(encode_change_event(event, limit=2000))
    assert small.attributes_json is None and small.new_fingerprint == event.new_fingerprint


def test_the_item_stores_the_fingerprint_and_what_was_emitted() -> None:
    seen = observation(instance())
    plain = inventory_item(seen)
    assert plain["fingerprint"] == {"S": observation_fingerprint(seen)}
    assert "emitted_ms" not in plain
    emitted = Emitted(ChangeType.CREATED)
    item = inventory_item(seen, fingerprint="f", emitted=emitted)
    assert item["fingerprint"] == {"S": "f"}
    assert item["emitted_ms"] == {"N": str(epoch_ms(T0))}
    assert Emitted.from_json(item["emitted"]["S"]) == emitted
