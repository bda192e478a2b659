"""The StackSet template of the member-account roles, generated from the catalog and the actions.

`fleetstream deploy render-member-role --out deploy/aws/member-role.yaml` writes it; a unit test
fails when the committed file differs from what this module renders, so a new catalog type (or,
an action's permissions) reaches the organization by regenerating one file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

from fleetstream.actions.registry import action_permissions
from fleetstream.catalog.policy import iam_policy

TEMPLATE_PATH = "deploy/aws/member-role.yaml"
REGENERATE = "fleetstream deploy render-member-role --out " + TEMPLATE_PATH

_HEADER = f"""\
# GENERATED from the catalog by `{REGENERATE}`.
# Do not edit by hand: tests/unit/test_member_role.py fails when this file differs from the
# generator's output. Deploy it with a service-managed StackSet to every account of the
# organization (docs/deploy-aws.md, step 2).
"""


# Writes the action plane may do only on resources it made or through one service: the rest
# of action_permissions() is granted on "*" (EC2 tags, stop/start, snapshots have no narrower
# resource the request could name in advance). Every key must be an action_permissions() entry
# (tests/unit/test_member_role.py).
_SNAPSHOTS = "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:cluster-snapshot:fleetstream-*"
SCOPED_WRITES: dict[str, dict[str, Any]] = {
    # Only for RDS copying an encrypted snapshot, never a grant to an arbitrary principal.
    "kms:CreateGrant": {
        "Resource": "*",
        "Condition": {
            "StringLike": {"kms:ViaService": "rds.*.amazonaws.com"},
            "Bool": {"kms:GrantIsForAWSResource": "true"},
        },
    },
    # Snapshots the workflow names fleetstream-<execution> (consumers/actor/rds_workflow.py).
    "rds:CreateDBClusterSnapshot": {
        "Resource": [
            {"Fn::Sub": "arn:${AWS::Partition}:rds:*:${AWS::AccountId}:cluster:*"},
            {"Fn::Sub": _SNAPSHOTS},
        ]
    },
    "rds:CopyDBClusterSnapshot": {"Resource": {"Fn::Sub": _SNAPSHOTS}},
    "rds:ModifyDBClusterSnapshotAttribute": {"Resource": {"Fn::Sub": _SNAPSHOTS}},
}


def _trust(*principal_parameters: str) -> dict[str, Any]:
    """Only those hub roles, only with the ExternalId, only from inside the organization."""
    refs = [{"Ref": name} for name in principal_parameters]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": refs[0] if len(refs) == 1 else refs},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {
                        "sts:ExternalId": {"Ref": "ExternalId"},
                        "aws:PrincipalOrgID": {"Ref": "OrganizationId"},
                    }
                },
            }
        ],
    }


def action_statements() -> list[dict[str, Any]]:
    """The actions role's policy: every permission of the action registry, scoped if it can."""
    permissions = action_permissions()
    anywhere = [p for p in permissions if p not in SCOPED_WRITES]
    statements: list[dict[str, Any]] = [
        {"Sid": "FleetstreamActions", "Effect": "Allow", "Action": anywhere, "Resource": "*"}
    ]
    for permission in permissions:
        if permission in SCOPED_WRITES:
            sid = "".join(c for c in permission.split(":")[1] if c.isalnum())
            statements.append(
                {"Sid": sid, "Effect": "Allow", "Action": permission} | SCOPED_WRITES[permission]
            )
    return statements


def _role(
    name: str, description: str, trusted: tuple[str, ...], policy: dict[str, Any]
) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": {"Ref": name},
            "Path": {"Ref": "RolePath"},
            "Description": description,
            "MaxSessionDuration": 3600,
            "AssumeRolePolicyDocument": _trust(*trusted),
            "Policies": [policy],
        },
    }


def member_role_template(type_names: Iterable[str]) -> dict[str, Any]:
    """The CloudFormation template (as data) of the roles the hub assumes in a member account:
    a read-only role for the describer and planner, and (AllowActions) an actions role for the
    actor, each trusted by its own hub task role only."""
    role_name = {"Type": "String", "AllowedPattern": r"^[\w+=,.@-]{1,64}$"}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            "fleetstream member-account roles: read-only (least privilege for the catalog's "
            "resource types) for the hub's describer and planner, and the action plane's writes "
            "for the hub's actor only; ExternalId and organization required."
        ),
        "Parameters": {
            "HubRoleArn": {
                "Type": "String",
                "AllowedPattern": r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
                "Description": (
                    "The describer's task role (output HubTaskRoleArn of hub.yaml): with "
                    "PlannerRoleArn, the only principals of the read-only role."
                ),
            },
            "PlannerRoleArn": {
                "Type": "String",
                "AllowedPattern": r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
                "Description": (
                    "The planners' task role (output PlannerTaskRoleArn of hub.yaml): it reads "
                    "each account's enabled regions through the read-only role."
                ),
            },
            "ActorRoleArn": {
                "Type": "String",
                "Default": "",
                "AllowedPattern": r"^(arn:aws[a-z-]*:iam::\d{12}:role/.+)?$",
                "Description": (
                    "The actor's task role (output ActorTaskRoleArn of hub.yaml): the only "
                    "principal of the actions role. Required with AllowActions=true."
                ),
            },
            "ExternalId": {
                "Type": "String",
                "NoEcho": True,
                "MinLength": 2,
                "MaxLength": 1224,
                "AllowedPattern": r"^[\w+=,.@:/-]+$",
                "Description": "The value of the hub's ExternalId secret (aws.external_id).",
            },
            "OrganizationId": {
                "Type": "String",
                "AllowedPattern": r"^o-[a-z0-9]{10,32}$",
                "Description": "Only principals of this organization may assume the roles.",
            },
            "ReadOnlyRoleName": role_name
            | {
                "Default": "FleetstreamReadOnly",
                "Description": "Must equal the hub's aws.member_role_name.",
            },
            "ActionsRoleName": role_name
            | {
                "Default": "FleetstreamActions",
                "Description": "Must equal the hub's aws.action_role_name.",
            },
            "RolePath": {
                "Type": "String",
                "Default": "/",
                "AllowedPattern": r"^/([\w+=,.@-]+/)*$",
                "Description": "Must equal the hub's aws.member_role_path.",
            },
            "AllowActions": {
                "Type": "String",
                "Default": "false",
                "AllowedValues": ["true", "false"],
                "Description": (
                    "true: also the actions role (fleetstream act: tag, stop/start, snapshots, "
                    "the RDS snapshot workflow), assumable by ActorRoleArn only."
                ),
            },
        },
        "Conditions": {"WithActions": {"Fn::Equals": [{"Ref": "AllowActions"}, "true"]}},
        "Rules": {
            "ActorRoleWithActions": {
                "RuleCondition": {"Fn::Equals": [{"Ref": "AllowActions"}, "true"]},
                "Assertions": [
                    {
                        "Assert": {"Fn::Not": [{"Fn::Equals": [{"Ref": "ActorRoleArn"}, ""]}]},
                        "AssertDescription": "AllowActions=true needs ActorRoleArn",
                    }
                ],
            }
        },
        "Resources": {
            "ReadOnlyRole": _role(
                "ReadOnlyRoleName",
                "fleetstream inventory: read-only, assumed by the hub's describer and planner.",
                ("HubRoleArn", "PlannerRoleArn"),
                {"PolicyName": "fleetstream-read-only", "PolicyDocument": iam_policy(type_names)},
            ),
            "ActionsRole": {"Condition": "WithActions"}
            | _role(
                "ActionsRoleName",
                "fleetstream actions: the action plane's writes, assumed by the hub's actor.",
                ("ActorRoleArn",),
                {
                    "PolicyName": "fleetstream-actions",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": action_statements()},
                },
            ),
        },
        "Outputs": {
            "ReadOnlyRoleArn": {"Value": {"Fn::GetAtt": ["ReadOnlyRole", "Arn"]}},
            "ActionsRoleArn": {
                "Condition": "WithActions",
                "Value": {"Fn::GetAtt": ["ActionsRole", "Arn"]},
            },
        },
    }


def render_member_role(type_names: Iterable[str]) -> str:
    """The template as YAML text, byte-for-byte stable for the same types."""
    body = yaml.safe_dump(
        member_role_template(type_names), sort_keys=False, width=100, default_flow_style=False
    )
    return _HEADER + body
