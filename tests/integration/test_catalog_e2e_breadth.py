"""CodeBuild, Athena, EventBridge buses and API destinations, Resolver query logs, WAFv2,
SESv2, RDS parameter groups and proxies, egress-only gateways, DHCP options, DAX, FSx,
Private CAs, ECS tasks and EKS Fargate profiles from moto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack import StackEndpoints
from fleetstream.base.config import Settings
from tests.integration.catalog_e2e_support import sweep_seeded, tagged_types
from tests.integration.catalog_seeds import seed_breadth, seed_children

pytestmark = pytest.mark.integration


def test_breadth_types_match_the_seed_exactly(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    # Page size 5: the seven event buses, six IP sets and six SES identities are read across
    # pages through their declared paging (botocore has no paginator for these calls). Moto
    # returns all of them when no limit is sent, so the Stubber test in test_catalog_engine
    # is the one that fails without the declaration.
    swept = sweep_seeded(local_stack, monkeypatch, log_dir, seed_breadth)

    assert not swept.wrong(), swept.wrong()
    assert len(swept.truth) == 16
    assert len(swept.found["events.event_bus"]) == 7
    assert {
        "codebuild.project",
        "events.event_bus",
        "wafv2.web_acl",
        "wafv2.ip_set",
        "wafv2.rule_group",
        "sesv2.email_identity",
        "rds.db_parameter_group",
        "dax.cluster",
        "fsx.file_system",
        "acm-pca.certificate_authority",
    } <= tagged_types(swept.items)
    # A build project's environment variable values are redacted, their names kept.
    project = next(i for i in swept.items if i["resource_type"]["S"] == "codebuild.project")
    [variable] = json.loads(project["attributes"]["S"])["environment"]["environmentVariables"]
    assert variable["name"] == "TOKEN"
    assert variable["value"].startswith("<redacted:hmac-sha256:"), variable


def test_child_and_network_types_match_the_seed_exactly(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    swept = sweep_seeded(local_stack, monkeypatch, log_dir, seed_children)

    assert not swept.wrong(), swept.wrong()
    assert len(swept.truth) == 4
    assert {"ecs.task", "eks.fargate_profile", "rds.db_proxy"} <= tagged_types(swept.items)
    # A task's id is its ARN, and it names the cluster it runs in.
    tasks = [i for i in swept.items if i["resource_type"]["S"] == "ecs.task"]
    assert len(tasks) == 2
    for task in tasks:
        cluster = f"fs-{task['account_id']['S'][-6:]}-eu-west-1"
        assert json.loads(task["attributes"]["S"])["clusterArn"].endswith(f":cluster/{cluster}")
