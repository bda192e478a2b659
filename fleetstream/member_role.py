"""The StackSet template of the member-account role, generated from the catalog's permissions.

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


def member_role_template(type_names: Iterable[str]) -> dict[str, Any]:
    """The CloudFormation template (as data) of the role the hub assumes in a member account:
    read-only for the types, plus the action plane's permissions when AllowActions is true."""
    policy = iam_policy(type_names)
    writes = iam_policy([], action_permissions())["Statement"][1]
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            "fleetstream member-account role: read-only, least privilege for the catalog's "
            "resource types, assumable only by the fleetstream hub role with the ExternalId."
        ),
        "Parameters": {
            "HubRoleArn": {
                "Type": "String",
                "AllowedPattern": r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
                "Description": "ARN of the hub's task role (output HubTaskRoleArn of hub.yaml).",
            },
            "ExternalId": {
                "Type": "String",
                "NoEcho": True,
                "MinLength": 2,
                "MaxLength": 1224,
                "AllowedPattern": r"^[\w+=,.@:/-]+$",
                "Description": "The hub's aws.external_id (FLEETSTREAM_AWS__EXTERNAL_ID).",
            },
            "RoleName": {
                "Type": "String",
                "Default": "FleetstreamReadOnly",
                "AllowedPattern": r"^[\w+=,.@-]{1,64}$",
                "Description": "Must equal the hub's aws.member_role_name.",
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
                    "true: also the action plane's write permissions (fleetstream act: tag, "
                    "stop/start, snapshots, the RDS snapshot workflow)."
                ),
            },
        },
        "Conditions": {"WithActions": {"Fn::Equals": [{"Ref": "AllowActions"}, "true"]}},
        "Resources": {
            "MemberRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": {"Ref": "RoleName"},
                    "Path": {"Ref": "RolePath"},
                    "Description": "fleetstream inventory: read-only, assumed by the hub.",
                    "MaxSessionDuration": 3600,
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": {"Ref": "HubRoleArn"}},
                                "Action": "sts:AssumeRole",
                                "Condition": {
                                    "StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}
                                },
                            }
                        ],
                    },
                    "Policies": [
                        {"PolicyName": "fleetstream-read-only", "PolicyDocument": policy},
                        {
                            "Fn::If": [
                                "WithActions",
                                {
                                    "PolicyName": "fleetstream-actions",
                                    "PolicyDocument": {
                                        "Version": "2012-10-17",
                                        "Statement": [writes],
                                    },
                                },
                                {"Ref": "AWS::NoValue"},
                            ]
                        },
                    ],
                },
            }
        },
        "Outputs": {"MemberRoleArn": {"Value": {"Fn::GetAtt": ["MemberRole", "Arn"]}}},
    }


def render_member_role(type_names: Iterable[str]) -> str:
    """The template as YAML text, byte-for-byte stable for the same types."""
    body = yaml.safe_dump(
        member_role_template(type_names), sort_keys=False, width=100, default_flow_style=False
    )
    return _HEADER + body
