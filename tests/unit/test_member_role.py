"""The member-account roles' StackSet template is generated from the catalog and the action
registry, never hand-edited: a read-only role for the describer and planner, an actions role
for the actor, each trusted by its own hub role only."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fleetstream.actions.registry import action_permissions
from fleetstream.apps.member_role import (
    REGENERATE,
    SCOPED_WRITES,
    TEMPLATE_PATH,
    render_member_role,
)
from fleetstream.catalog import CATALOG
from fleetstream.catalog.policy import READ_VERBS, iam_policy

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def _template() -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(render_member_role(sorted(CATALOG)))
    return loaded


def test_the_committed_template_is_the_generators_output() -> None:
    committed = (ROOT / TEMPLATE_PATH).read_text()
    assert committed == render_member_role(sorted(CATALOG)), (
        f"{TEMPLATE_PATH} is out of date with the catalog: run `{REGENERATE}`"
    )


def _trust(role: dict[str, object], *principals: str) -> None:
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]  # type: ignore[index]
    refs = [{"Ref": principal} for principal in principals]
    assert trust["Principal"] == {"AWS": refs[0] if len(refs) == 1 else refs}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {
        "StringEquals": {
            "sts:ExternalId": {"Ref": "ExternalId"},
            "aws:PrincipalOrgID": {"Ref": "OrganizationId"},
        }
    }


def test_the_read_only_role_trusts_only_the_describer_and_planner_and_reads_only() -> None:
    template = _template()
    role = template["Resources"]["ReadOnlyRole"]["Properties"]  # type: ignore[index]
    _trust(role, "HubRoleArn", "PlannerRoleArn")
    [policy] = role["Policies"]
    assert policy["PolicyDocument"] == iam_policy(sorted(CATALOG))
    actions = policy["PolicyDocument"]["Statement"][0]["Action"]
    # Read-only: every action lists, describes or gets; none has a wildcard.
    # (apigateway:GET, a read by HTTP method, is granted apart, on the paths it may read.)
    assert all(a.split(":")[1].startswith(READ_VERBS) for a in actions), actions
    assert not [a for a in actions if "*" in a]
    # The organization is required: no principal outside it, ever.
    assert "Default" not in template["Parameters"]["OrganizationId"]  # type: ignore[index]


def test_the_actions_role_trusts_only_the_actor_and_scopes_what_it_can() -> None:
    template = _template()
    resource = template["Resources"]["ActionsRole"]  # type: ignore[index]
    assert resource["Condition"] == "WithActions"
    assert template["Parameters"]["AllowActions"]["Default"] == "false"  # type: ignore[index]
    role = resource["Properties"]
    _trust(role, "ActorRoleArn")
    [policy] = role["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    granted = [
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    # Exactly the registry's permissions, each once.
    assert sorted(granted) == action_permissions()
    assert set(SCOPED_WRITES) <= set(action_permissions())
    by_action = {s["Action"]: s for s in statements if isinstance(s["Action"], str)}
    grant = by_action["kms:CreateGrant"]
    assert grant["Condition"]["StringLike"] == {"kms:ViaService": "rds.*.amazonaws.com"}
    for name in ("rds:CopyDBClusterSnapshot", "rds:ModifyDBClusterSnapshotAttribute"):
        assert by_action[name]["Resource"] == {
            "Fn::Sub": "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:"
            "cluster-snapshot:fleetstream-*"
        }
    assert not [a for a in granted if "*" in a]
