"""The member-account role's StackSet template is generated from the catalog, never hand-edited."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fleetstream.actions.registry import action_permissions
from fleetstream.catalog import CATALOG
from fleetstream.catalog.policy import iam_policy
from fleetstream.member_role import REGENERATE, TEMPLATE_PATH, render_member_role

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_template_is_the_generators_output() -> None:
    committed = (ROOT / TEMPLATE_PATH).read_text()
    assert committed == render_member_role(sorted(CATALOG)), (
        f"{TEMPLATE_PATH} is out of date with the catalog: run `{REGENERATE}`"
    )


def test_the_role_trusts_only_the_hub_role_with_the_external_id_and_reads_only() -> None:
    template = yaml.safe_load(render_member_role(sorted(CATALOG)))
    role = template["Resources"]["MemberRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Ref": "HubRoleArn"}}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    policy, optional = role["Policies"]
    assert policy["PolicyDocument"] == iam_policy(sorted(CATALOG))
    actions = policy["PolicyDocument"]["Statement"][0]["Action"]
    # Read-only: every action lists, describes or gets; none has a wildcard.
    verbs = ("List", "Describe", "Get")
    assert all(a.split(":")[1].startswith(verbs) for a in actions), actions
    assert not [a for a in actions if "*" in a]
    # The action plane's writes only with AllowActions=true (default false).
    condition, writes, absent = optional["Fn::If"]
    assert condition == "WithActions" and absent == {"Ref": "AWS::NoValue"}
    assert template["Parameters"]["AllowActions"]["Default"] == "false"
    [statement] = writes["PolicyDocument"]["Statement"]
    assert statement["Action"] == action_permissions()
    assert not [a for a in statement["Action"] if "*" in a]
