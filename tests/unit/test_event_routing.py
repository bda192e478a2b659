"""Event router logic: envelopes, the catalog's event rules, coalescing (no servers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import botocore.session
import jmespath
import pytest

from fleetstream.base.errors import PoisonMessageError
from fleetstream.base.models import GLOBAL_REGION
from fleetstream.catalog import CATALOG
from fleetstream.catalog.engine import targeted_params
from producers.events.admission import Admission
from producers.events.coalesce import Added, Coalescer
from producers.events.envelope import ApiCallEvent, parse_event
from producers.events.routes import Routes, Target, operation_name

pytestmark = pytest.mark.unit
SESSION = botocore.session.get_session()
REFRESHABLE = [e for e in CATALOG.values() if e.refresh is not None]
T0 = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)


def envelope(
    name: str, detail: dict[str, object], *, source: str = "ec2.amazonaws.com", **top: object
) -> bytes:
    """An EventBridge 'AWS API Call via CloudTrail' event as AWS delivers it."""
    return json.dumps(
        {
            "version": "0",
            "id": "7bf73129-1428-4cd3-a780-95db273d1602",
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws." + source.split(".", maxsplit=1)[0],
            "account": "111111111111",
            "time": "2026-11-23T12:00:00Z",
            "region": "eu-west-1",
            "resources": [],
            "detail": {
                "eventVersion": "1.08",
                "eventTime": "2026-11-23T12:00:00Z",
                "eventSource": source,
                "eventName": name,
                "awsRegion": "eu-west-1",
                **detail,
            },
            **top,
        }
    ).encode()


def test_a_run_instances_event_names_the_new_instances() -> None:
    event = parse_event(
        envelope(
            "RunInstances",
            {
                "responseElements": {
                    "instancesSet": {"items": [{"instanceId": "i-1"}, {"instanceId": "i-2"}]}
                }
            },
        )
    )
    assert isinstance(event, ApiCallEvent)
    assert (event.account_id, event.region, event.time) == ("111111111111", "eu-west-1", T0)
    assert Routes(REFRESHABLE).targets(event) == [
        Target("111111111111", "eu-west-1", "ec2.instance", ("i-1", "i-2"))
    ]


def test_create_tags_routes_each_id_to_its_type_by_prefix() -> None:
    items = [{"resourceId": r} for r in ("i-1", "sg-1", "vol-1", "subnet-1", "ami-1")]
    event = parse_event(
        envelope("CreateTags", {"requestParameters": {"resourcesSet": {"items": items}}})
    )
    assert event is not None
    found = {t.resource_type: t.ids for t in Routes(REFRESHABLE).targets(event)}
    assert found == {
        "ec2.instance": ("i-1",),
        "ec2.security_group": ("sg-1",),
        "ec2.volume": ("vol-1",),
        "ec2.subnet": ("subnet-1",),
    }


def test_versioned_lambda_names_and_global_types() -> None:
    assert operation_name("UpdateFunctionConfiguration20150331v2") == "UpdateFunctionConfiguration"
    assert operation_name("CreateFunction20150331") == "CreateFunction"
    assert operation_name("RunInstances") == "RunInstances"
    lam = parse_event(
        envelope(
            "UpdateFunctionConfiguration20150331v2",
            {"requestParameters": {"functionName": "billing"}},
            source="lambda.amazonaws.com",
        )
    )
    bucket = parse_event(
        envelope(
            "PutBucketPolicy",
            {"requestParameters": {"bucketName": "logs"}},
            source="s3.amazonaws.com",
        )
    )
    assert lam is not None and bucket is not None
    routes = Routes(REFRESHABLE)
    assert routes.targets(lam) == [
        Target("111111111111", "eu-west-1", "lambda.function", ("billing",))
    ]
    # Buckets are listed once per account: the refresh goes to the global shard.
    assert routes.targets(bucket) == [Target("111111111111", GLOBAL_REGION, "s3.bucket", ("logs",))]


def test_another_accounts_copy_of_an_event_is_foreign() -> None:
    detail: dict[str, object] = {
        "requestParameters": {"instancesSet": {"items": [{"instanceId": "i-9"}]}}
    }
    copy = parse_event(envelope("StopInstances", {"recipientAccountId": "222222222222", **detail}))
    assert copy is not None and copy.account_id == "222222222222" and copy.foreign
    own = parse_event(envelope("StopInstances", {"recipientAccountId": "111111111111", **detail}))
    assert own is not None and own.account_id == "111111111111" and not own.foreign
    # Without recipientAccountId the envelope's account is the resource's.
    plain = parse_event(envelope("StopInstances", detail))
    assert plain is not None and not plain.foreign


def test_admission_refuses_foreign_future_and_old_events() -> None:
    admission = Admission(future_tolerance=timedelta(minutes=5), max_age=timedelta(days=2))
    detail: dict[str, object] = {"recipientAccountId": "222222222222"}
    foreign = parse_event(envelope("StopInstances", detail))
    assert foreign is not None and admission.refusal(foreign, T0) == "foreign_account"
    event = parse_event(envelope("StopInstances", {}))
    assert event is not None and admission.refusal(event, T0) is None
    # The router's clock may run a little behind AWS's, never by years.
    assert admission.refusal(event, T0 - timedelta(minutes=4)) is None
    assert admission.refusal(event, T0 - timedelta(minutes=6)) == "future"
    assert admission.refusal(event, T0 + timedelta(days=1)) is None
    assert admission.refusal(event, T0 + timedelta(days=3)) == "too_old"


def test_unknown_failed_and_other_events() -> None:
    routes = Routes(REFRESHABLE)
    unknown = parse_event(envelope("DescribeInstances", {}))
    assert unknown is not None and not routes.known(unknown)
    failed = parse_event(envelope("RunInstances", {"errorCode": "Client.UnauthorizedOperation"}))
    assert failed is not None and failed.failed
    state_change = json.loads(envelope("x", {}))
    state_change["detail-type"] = "EC2 Instance State-change Notification"
    assert parse_event(json.dumps(state_change).encode()) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (b"\x00\x01 not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"detail-type": "AWS API Call via CloudTrail"}', "no detail object"),
        (envelope("RunInstances", {"eventTime": "yesterday"}), "not ISO 8601"),
        (
            json.dumps({"detail-type": "AWS API Call via CloudTrail", "detail": {}}).encode(),
            "no account",
        ),
        (None, "no value"),
    ],
)
def test_malformed_events_are_poison(value: bytes | None, message: str) -> None:
    with pytest.raises(PoisonMessageError, match=message):
        parse_event(value)


def _coalescer(
    window_s: float = 1.0, remembered: int = 1000, budget: int | None = None
) -> tuple[Coalescer, list[float]]:
    now = [0.0]
    coalescer = Coalescer(
        CATALOG, window_s, remembered, clock=lambda: now[0], account_budget=budget
    )
    return coalescer, now


def test_a_burst_for_one_resource_becomes_one_refresh() -> None:
    coalescer, now = _coalescer()
    target = Target("111111111111", "eu-west-1", "ec2.instance", ("i-1",))
    for n in range(100):
        coalescer.add(target, T0 + timedelta(milliseconds=n))
    assert not coalescer.due()
    now[0] = 1.0
    assert coalescer.due()
    items, covered = coalescer.drain("refresh-1")
    assert [(i.resource_ids, i.triggered_at) for i in items] == [(("i-1",), T0)]
    coalescer.confirm(covered)
    # The burst's tail, read after the refresh was issued, is covered by it.
    assert coalescer.add(target, T0 + timedelta(milliseconds=99)) == Added(0, 0)
    assert coalescer.empty
    # A newer change is not.
    assert coalescer.add(target, T0 + timedelta(seconds=5)) == Added(1, 0)


def test_an_unconfirmed_drain_covers_nothing() -> None:
    coalescer, _ = _coalescer(window_s=0)
    target = Target("111111111111", "eu-west-1", "ec2.instance", ("i-1",))
    coalescer.add(target, T0)
    coalescer.drain("refresh-1")  # the transaction failed: not confirmed
    assert coalescer.add(target, T0).new == 1


def test_ids_are_chunked_per_type_and_memory_is_bounded() -> None:
    coalescer, _ = _coalescer(window_s=0, remembered=10)
    ids = tuple(f"i-{n}" for n in range(250))
    coalescer.add(Target("111111111111", "eu-west-1", "ec2.instance", ids), T0)
    coalescer.add(Target("111111111111", "us-east-1", "ec2.instance", ("i-x",)), T0)
    items, covered = coalescer.drain("refresh-1")
    assert sorted(len(i.resource_ids or ()) for i in items) == [1, 50, 100, 100]
    coalescer.confirm(covered)
    assert coalescer.add(Target("111111111111", "eu-west-1", "ec2.instance", ("i-0",)), T0).new == 1


def test_one_account_cannot_take_more_than_its_budget_of_a_window() -> None:
    coalescer, _ = _coalescer(window_s=0, budget=150)
    flood = tuple(f"i-{n}" for n in range(3000))
    sandbox = Target("999999999999", "eu-west-1", "ec2.instance", flood)
    assert coalescer.add(sandbox, T0) == Added(150, 2850)
    # Ids already pending are not shed again; other accounts have budgets of their own.
    assert coalescer.add(Target("999999999999", "eu-west-1", "ec2.instance", ("i-0",)), T0) == (
        Added(0, 0)
    )
    genuine = Target("111111111111", "eu-west-1", "ec2.instance", ("i-genuine",))
    assert coalescer.add(genuine, T0) == Added(1, 0)
    items, _covered = coalescer.drain("refresh-1")
    per_account: dict[str, int] = {}
    for item in items:
        per_account[item.account_id] = per_account.get(item.account_id, 0) + len(
            item.resource_ids or ()
        )
    assert per_account == {"999999999999": 150, "111111111111": 1}
    # The next window has a fresh budget.
    assert coalescer.add(sandbox, T0).new == 150


@pytest.mark.parametrize("entry", REFRESHABLE, ids=[e.type_name for e in REFRESHABLE])
def test_refresh_declarations_match_botocore(entry: object) -> None:
    from fleetstream.catalog import CatalogEntry

    assert isinstance(entry, CatalogEntry) and entry.refresh is not None
    model = SESSION.get_service_model(entry.service)
    operation = model.operation_model(entry.operation)
    assert operation.input_shape is not None
    params = targeted_params(entry, ["x"])
    members = operation.input_shape.members
    for name in params:
        assert name in members, f"{entry.operation} takes no {name}"
    if entry.refresh.ids_param is not None:
        assert members[entry.refresh.ids_param].type_name == "list"
    assert entry.parent is None, "a child type cannot be refreshed by id"
    for rule in entry.refresh.events:
        assert rule.source == f"{model.metadata['endpointPrefix']}.amazonaws.com"
        jmespath.compile(rule.ids)
        for name in rule.names:
            assert name in model.operation_names, f"{name} is not a {entry.service} operation"


def test_refresh_covers_the_types_the_issue_names() -> None:
    assert {
        "ec2.instance",
        "s3.bucket",
        "lambda.function",
        "rds.db_instance",
        "ec2.security_group",
    } <= {e.type_name for e in REFRESHABLE}
