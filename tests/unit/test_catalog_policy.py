"""The member role's least-privilege policy and `fleetstream iam-policy`."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from fleetstream.apps.catalog_cli import iam_policy_command
from fleetstream.base.config import Settings
from fleetstream.base.errors import ConfigError
from fleetstream.catalog import CATALOG
from fleetstream.catalog.policy import PATH_SCOPED_READS, READ_VERBS, iam_action, iam_policy

pytestmark = pytest.mark.unit
# Reading any of these would put secret values within the describer's reach.
NEVER = {
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "lambda:GetFunction",
    "ec2:DescribeInstanceAttribute",
    "kms:Decrypt",
}


def actions(policy: dict[str, object]) -> list[str]:
    """Every action the policy grants: "*" statements, then the path-scoped reads."""
    statements = policy["Statement"]
    assert isinstance(statements, list) and statements
    assert all(s["Effect"] == "Allow" for s in statements)
    assert statements[0]["Resource"] == "*"
    assert all(s["Action"] == [a] for s in statements[1:] for a in s["Action"])
    assert all(s["Resource"] == PATH_SCOPED_READS[s["Action"][0]] for s in statements[1:])
    return [a for s in statements for a in s["Action"]]


def test_policy_of_the_default_type() -> None:
    assert iam_policy(["ec2.instance"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "FleetstreamReadOnly",
                "Effect": "Allow",
                "Action": ["ec2:DescribeInstances", "ec2:DescribeRegions"],
                "Resource": "*",
            }
        ],
    }


def test_policy_actions_are_sorted_unique_and_cover_every_call() -> None:
    granted = actions(iam_policy(["ecs.cluster", "ecs.service", "s3.bucket", "ecs.cluster"]))
    assert granted == sorted(set(granted))
    assert granted == [
        "ec2:DescribeRegions",
        "ecs:DescribeClusters",
        "ecs:DescribeServices",
        "ecs:ListClusters",
        "ecs:ListServices",
        "s3:GetBucketLocation",
        "s3:GetBucketTagging",
        "s3:ListAllMyBuckets",
    ]


def test_policy_of_the_whole_catalog_is_read_only_and_never_reads_secret_values() -> None:
    granted = actions(iam_policy(CATALOG))
    assert len(granted) == len(set(granted))
    path_scoped = {a for a in granted if a in PATH_SCOPED_READS}
    assert all(a.split(":", 1)[1].startswith(READ_VERBS) for a in granted if a not in path_scoped)
    assert not NEVER & set(granted)
    # apigateway:GET is a read by HTTP method, granted only on the paths the catalog reads (on
    # "*" it would read API keys' values).
    scoped = [s for s in iam_policy(CATALOG)["Statement"] if s["Resource"] != "*"]
    assert [(s["Action"], s["Resource"]) for s in scoped] == [
        (["apigateway:GET"], PATH_SCOPED_READS["apigateway:GET"])
    ]
    assert not any("apikeys" in r for r in PATH_SCOPED_READS["apigateway:GET"])
    assert {"states:ListStateMachines", "elasticloadbalancing:DescribeTags"} <= set(granted)


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("s3", "ListBuckets", "s3:ListAllMyBuckets"),
        ("elbv2", "DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroups"),
        ("stepfunctions", "ListStateMachines", "states:ListStateMachines"),
        ("efs", "DescribeFileSystems", "elasticfilesystem:DescribeFileSystems"),
        ("kafka", "ListClustersV2", "kafka:ListClustersV2"),
    ],
)
def test_iam_action_names(service: str, operation: str, action: str) -> None:
    assert iam_action(service, operation) == action


def test_an_unknown_type_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown resource type"):
        iam_policy(["ec2.nothing"])


def run(args: list[str], resource_types: tuple[str, ...]) -> tuple[int, str, str]:
    obj = SimpleNamespace(settings=Settings(resource_types=resource_types))
    result = CliRunner().invoke(iam_policy_command, args, obj=obj)
    return result.exit_code, result.stdout, result.stderr


def test_command_prints_the_policy_of_the_configured_types() -> None:
    code, out, _ = run([], ("sqs.queue",))
    assert code == 0
    assert json.loads(out) == iam_policy(["sqs.queue"])


def test_command_all_covers_every_catalog_type() -> None:
    code, out, _ = run(["--all"], ("sqs.queue",))
    assert code == 0
    assert json.loads(out) == iam_policy(CATALOG)


def test_command_reports_an_unknown_type_in_one_line() -> None:
    code, out, err = run([], ("sqs.nothing",))
    assert code == 2
    assert out == ""
    assert err.startswith("fleetstream: error: unknown resource type 'sqs.nothing'")
