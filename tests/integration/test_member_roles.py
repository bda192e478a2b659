"""The member roles of deploy/aws/member-role.yaml, deployed into moto as the template says,
assumed by the stages that run as the hub's task roles.

The describer and the planner (HubTaskRole) may assume only a role without write actions; the
actor (ActorTaskRole) the one holding the action plane's writes. moto's STS is wrapped by the
devstack's trust middleware, which enforces the trust policy's principal, sts:ExternalId and
aws:PrincipalOrgID as AWS does.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError

from devstack import StackEndpoints
from devstack.seed import HUB_ACCOUNT_ID, EstateSpec, seed_estate
from fleetstream.actions.registry import action_permissions
from fleetstream.apps.member_role import render_member_role
from fleetstream.catalog import CATALOG
from fleetstream.catalog.policy import is_read_action
from tests.integration.helpers import member_client

pytestmark = pytest.mark.integration


def _resolve(value: Any, params: dict[str, str], conditions: dict[str, bool]) -> Any:
    """CloudFormation's Ref, Fn::If, Fn::Sub and AWS::NoValue, enough for member-role.yaml."""
    if isinstance(value, list):
        resolved = [_resolve(v, params, conditions) for v in value]
        return [v for v in resolved if v is not _NO_VALUE]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return _NO_VALUE if value["Ref"] == "AWS::NoValue" else params[value["Ref"]]
    if "Fn::If" in value:
        name, yes, no = value["Fn::If"]
        return _resolve(yes if conditions[name] else no, params, conditions)
    if "Fn::Sub" in value:
        return re.sub(r"\$\{([\w:]+)\}", lambda m: params[m.group(1)], value["Fn::Sub"])
    resolved_map = {k: _resolve(v, params, conditions) for k, v in value.items()}
    return {k: v for k, v in resolved_map.items() if v is not _NO_VALUE}


_NO_VALUE = object()


def deploy_member_roles(
    aws_endpoint: str, account_id: str, params: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Create every role of the generated template in the account; name -> its properties."""
    template = yaml.safe_load(render_member_role(sorted(CATALOG)))
    values = {
        name: str(spec["Default"])
        for name, spec in template["Parameters"].items()
        if "Default" in spec
    }
    values |= {"AllowActions": "true", "AWS::Partition": "aws", "AWS::AccountId": account_id}
    values |= {k: v for k, v in params.items() if k in template["Parameters"]}
    conditions = {
        name: _resolve(spec["Fn::Equals"][0], values, {}) == spec["Fn::Equals"][1]
        for name, spec in template.get("Conditions", {}).items()
    }
    iam = member_client(aws_endpoint, account_id, "iam", "us-east-1")
    roles: dict[str, dict[str, Any]] = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        if "Condition" in resource and not conditions[resource["Condition"]]:
            continue
        role = _resolve(resource["Properties"], values, conditions)
        iam.create_role(
            RoleName=role["RoleName"],
            Path=role.get("Path", "/"),
            AssumeRolePolicyDocument=json.dumps(role["AssumeRolePolicyDocument"]),
        )
        roles[role["RoleName"]] = role
    return roles


def writes(role: dict[str, Any]) -> set[str]:
    """The actions of a role's policies that neither list, describe nor get."""
    found: set[str] = set()
    for policy in role.get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            actions = [actions] if isinstance(actions, str) else actions
            found |= {a for a in actions if not is_read_action(a)}
    return found


def hub_task_session(aws_endpoint: str, name: str) -> boto3.Session:
    """Credentials of a hub task role (as ECS gives a task), from a role made in moto."""
    iam = boto3.client("iam", endpoint_url=aws_endpoint, region_name="us-east-1")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{HUB_ACCOUNT_ID}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    sts = boto3.client("sts", endpoint_url=aws_endpoint, region_name="us-east-1")
    credentials = sts.assume_role(RoleArn=arn, RoleSessionName="task")["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name="us-east-1",
    )


def assumable(session: boto3.Session, aws_endpoint: str, role_arn: str, external_id: str) -> bool:
    """True when STS lets this session assume the role with the ExternalId."""
    sts = session.client("sts", endpoint_url=aws_endpoint)
    try:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="fleetstream", ExternalId=external_id)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDenied"
        return False
    return True


def test_each_stage_assumes_only_its_own_member_role(local_stack: StackEndpoints) -> None:
    endpoint = local_stack.aws_endpoint
    assert endpoint
    estate = seed_estate(
        endpoint, EstateSpec(member_accounts=1, instances_per_region=1, paged_region=None)
    )
    account = estate.accounts[0].account_id
    run = uuid.uuid4().hex[:8]
    describer = hub_task_session(endpoint, f"HubTaskRole-{run}")
    actor = hub_task_session(endpoint, f"ActorTaskRole-{run}")
    org = boto3.client("organizations", endpoint_url=endpoint, region_name="us-east-1")
    external_id = f"ext-{run}"
    params = {
        "HubRoleArn": f"arn:aws:iam::{HUB_ACCOUNT_ID}:role/HubTaskRole-{run}",
        "PlannerRoleArn": f"arn:aws:iam::{HUB_ACCOUNT_ID}:role/PlannerTaskRole-{run}",
        "ActorRoleArn": f"arn:aws:iam::{HUB_ACCOUNT_ID}:role/ActorTaskRole-{run}",
        "ExternalId": external_id,
        "OrganizationId": org.describe_organization()["Organization"]["Id"],
        # The seed made a FleetstreamReadOnly already; these roles are the template's own.
        "RoleName": f"ReadOnly-{run}",
        "ReadOnlyRoleName": f"ReadOnly-{run}",
        "ActionsRoleName": f"Actions-{run}",
    }
    roles = deploy_member_roles(endpoint, account, params)

    def arn(role: dict[str, Any]) -> str:
        return f"arn:aws:iam::{account}:role{role.get('Path', '/')}{role['RoleName']}"

    by_describer = {
        n for n, r in roles.items() if assumable(describer, endpoint, arn(r), external_id)
    }
    by_actor = {n for n, r in roles.items() if assumable(actor, endpoint, arn(r), external_id)}
    # The describer parses untrusted AWS data: whatever it can assume reads only.
    assert by_describer, "the describer can assume no member role"
    assert all(not writes(roles[n]) for n in by_describer), {
        n: sorted(writes(roles[n])) for n in by_describer
    }
    # The actor's role holds every write the action registry declares, and reads nothing else.
    assert len(by_actor) == 1
    [acting] = by_actor
    assert writes(roles[acting]) == {p for p in action_permissions() if not is_read_action(p)}
    # Neither works without the ExternalId's value.
    for name, role in roles.items():
        assert not assumable(describer, endpoint, arn(role), "wrong"), name
        assert not assumable(actor, endpoint, arn(role), "wrong"), name
