"""The action plane's pure parts: selectors, the action registry, batching, vanished targets."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import botocore.session
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from consumers.actor.ec2 import BATCH_ACTIONS
from consumers.actor.rds_workflow import WORKFLOWS
from consumers.actor.steps import call_live
from fleetstream.actions.models import (
    ActionStep,
    OutcomeStatus,
    Selector,
    Target,
    idempotency_key,
)
from fleetstream.actions.registry import ACTIONS, ActionError, action_permissions, action_spec
from fleetstream.actions.selector import Plan, arn_identity, parse_set, parse_where
from fleetstream.actions.wire import decode_step, encode_step
from fleetstream.apps.catalog_cli import iam_policy_command
from fleetstream.base.config import Settings
from fleetstream.base.models import utc_now

pytestmark = pytest.mark.unit

ACCOUNT = "123456789012"


def test_a_selector_parses_every_kind_of_term() -> None:
    selector = parse_where(
        f"type=ec2.instance, tag:Env=prod,attr:State.Name=running,account={ACCOUNT}|"
        "210987654321,region=eu-west-1,region=us-east-1"
    )
    assert selector == Selector(
        resource_type="ec2.instance",
        tags={"Env": "prod"},
        attributes={"State.Name": "running"},
        accounts=(ACCOUNT, "210987654321"),
        regions=("eu-west-1", "us-east-1"),
    )


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("tag:Env=prod", "needs type="),
        ("type=ec2.nothing", "unknown resource type 'ec2.nothing'"),
        ("type=ec2.instance,Env", "malformed selector term 'Env'"),
        ("type=ec2.instance,tag:=x", "unknown selector key 'tag:'"),
        ("type=ec2.instance,owner=me", "unknown selector key 'owner'"),
        ("type=ec2.instance,account=12345", "'12345' is not an account id"),
        ("type=ec2.instance,region=mars", "'mars' is not a region name"),
        ("type=ec2.instance,arn=i-123", "'i-123' is not an ARN"),
        ("type=ec2.instance,tag:Env=", "malformed selector term"),
    ],
)
def test_a_malformed_selector_is_one_clear_line(where: str, message: str) -> None:
    with pytest.raises(ActionError, match=re.escape(message)):
        parse_where(where)


def test_set_pairs() -> None:
    assert parse_set(["Production=Yes", "Owner", "a=b=c"]) == {
        "Production": "Yes",
        "Owner": "",
        "a": "b=c",
    }
    with pytest.raises(ActionError, match="malformed --set"):
        parse_set(["=x"])


def test_the_idempotency_key_ignores_order() -> None:
    one = Selector("ec2.instance", accounts=(ACCOUNT, "210987654321"), tags={"a": "1", "b": "2"})
    two = Selector("ec2.instance", accounts=("210987654321", ACCOUNT), tags={"b": "2", "a": "1"})
    assert idempotency_key("tag", {"x": "1", "y": "2"}, one) == idempotency_key(
        "tag", {"y": "2", "x": "1"}, two
    )
    assert idempotency_key("tag", {"x": "1"}, one) != idempotency_key("untag", {"x": "1"}, one)


def test_actions_validate_their_requests() -> None:
    with pytest.raises(ActionError, match="unknown action 'reboot'"):
        action_spec("reboot")
    with pytest.raises(ActionError, match=re.escape("does not apply to 'ec2.vpc'")):
        action_spec("stop").validate("ec2.vpc", {})
    with pytest.raises(ActionError, match="needs --set kms_key_id"):
        action_spec("rds-snapshot-share").validate("rds.db_cluster", {"target_account": ACCOUNT})
    with pytest.raises(ActionError, match="at least one --set"):
        action_spec("tag").validate("ec2.instance", {})
    with pytest.raises(ActionError, match="has no parameter force"):
        action_spec("stop").validate("ec2.instance", {"force": "true"})
    action_spec("tag").validate("ec2.instance", {"Production": "Yes"})


_PREFIX_SERVICE = {"tag": "resourcegroupstaggingapi"}


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_every_action_declares_real_iam_actions(name: str) -> None:
    """Each permission names an operation of the service's botocore model."""
    spec = ACTIONS[name]
    assert spec.permissions and spec.max_batch >= 1 and spec.batching
    session = botocore.session.get_session()
    for permission in spec.permissions:
        prefix, operation = permission.split(":")
        model = session.get_service_model(_PREFIX_SERVICE.get(prefix, prefix))
        assert operation in model.operation_names, permission


def test_iam_policy_adds_the_action_statement() -> None:
    obj = SimpleNamespace(settings=Settings(resource_types=("ec2.instance",)))
    result = CliRunner().invoke(iam_policy_command, ["--actions"], obj=obj)
    assert result.exit_code == 0
    statements = json.loads(result.stdout)["Statement"]
    assert [s["Sid"] for s in statements] == ["FleetstreamReadOnly", "FleetstreamActions"]
    assert statements[1]["Action"] == action_permissions()
    assert "ec2:CreateTags" in statements[1]["Action"]


def test_a_plan_batches_per_account_region() -> None:
    targets = tuple(
        Target(f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-{n}", f"i-{n}") for n in range(5)
    )
    plan = Plan({(ACCOUNT, "eu-west-1"): targets, (ACCOUNT, "us-east-1"): targets[:1]})
    batches = list(plan.batches(2))
    assert [(a, r, n, len(t)) for a, r, n, t in batches] == [
        (ACCOUNT, "eu-west-1", 0, 2),
        (ACCOUNT, "eu-west-1", 1, 2),
        (ACCOUNT, "eu-west-1", 2, 1),
        (ACCOUNT, "us-east-1", 0, 1),
    ]
    assert plan.total == 6


def test_arn_identity() -> None:
    assert arn_identity(f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster:db-1") == (
        ACCOUNT,
        "eu-west-1",
        "db-1",
    )
    assert arn_identity(f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-9")[2] == "i-9"


def _not_found(message: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "InvalidInstanceID.NotFound", "Message": message}}, "CreateTags"
    )


def test_vanished_targets_are_skipped_and_the_rest_acted_on() -> None:
    targets = [Target(f"arn:{n}", f"i-{n}") for n in ("a", "b", "c")]
    calls: list[list[str]] = []

    def create_tags(ids: list[str]) -> None:
        calls.append(ids)
        if "i-b" in ids:
            raise _not_found("The instance ID 'i-b' does not exist")

    outcomes = call_live(targets, create_tags)
    assert calls == [["i-a", "i-b", "i-c"], ["i-a", "i-c"]]
    assert {o.resource_id: o.status for o in outcomes} == {
        "i-a": OutcomeStatus.OK,
        "i-b": OutcomeStatus.SKIPPED,
        "i-c": OutcomeStatus.OK,
    }


def test_an_unnamed_vanished_target_is_found_one_by_one() -> None:
    targets = [Target(f"arn:{n}", f"i-{n}") for n in ("a", "b")]

    def stop(ids: list[str]) -> None:
        if "i-a" in ids:
            raise _not_found("One or more instances do not exist")

    outcomes = call_live(targets, stop)
    assert [(o.resource_id, o.status) for o in outcomes] == [
        ("i-a", OutcomeStatus.SKIPPED),
        ("i-b", OutcomeStatus.OK),
    ]


def test_a_denied_call_fails_every_target_with_the_reason() -> None:
    def denied(_ids: list[str]) -> None:
        raise ClientError(
            {"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, "StopInstances"
        )

    outcomes = call_live([Target("arn:a", "i-a")], denied)
    assert outcomes[0].status is OutcomeStatus.FAILED
    assert outcomes[0].reason == "UnauthorizedOperation: no"


def test_a_step_round_trips_and_keys_its_audit_record() -> None:
    step = ActionStep(
        request_id="req-1",
        submission_id="s",
        action="rds-snapshot-share",
        params={"kms_key_id": "k"},
        account_id=ACCOUNT,
        region="eu-west-1",
        resource_type="rds.db_cluster",
        step_id="x1",
        step="wait_snapshot",
        targets=(Target("arn:c", "c"),),
        requested_by="me",
        issued_at=utc_now(),
        state={"check": "3"},
    )
    assert decode_step(encode_step(step)) == step
    assert step.record_key == "step#x1#wait_snapshot#0003"
    assert step.budget_key == f"{ACCOUNT}/eu-west-1"


def test_every_declared_action_has_an_implementation() -> None:
    """The registry and the actor agree: batch actions and workflows, no more, no fewer."""
    workflows = {name for name, spec in ACTIONS.items() if spec.workflow}
    assert set(WORKFLOWS) == workflows == {"rds-snapshot-share"}
    assert set(BATCH_ACTIONS) == set(ACTIONS) - workflows
    assert all(spec.max_batch == 1 for name, spec in ACTIONS.items() if name in workflows)
