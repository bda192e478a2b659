"""Types that hang off workloads: ALB listeners and ECS container instances (child types),
scaling policies, EFS access points, DynamoDB backups, Lambda event source mappings and
layers, SNS subscriptions, Step Functions activities, Config rules, Glue connections, EMR
clusters, the GuardDuty detector, SES configuration sets, dedicated hosts, transit gateway
route tables, Network Firewalls.

No e2e for workspaces.workspace: moto wants a registered Directory Service directory first.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack import StackEndpoints
from fleetstream.base.config import Settings
from tests.integration.catalog_e2e_support import sweep_seeded, tagged_types
from tests.integration.catalog_seeds import seed_workloads

pytestmark = pytest.mark.integration


def test_workload_types_match_the_seed_exactly(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    swept = sweep_seeded(local_stack, monkeypatch, log_dir, seed_workloads)

    assert not swept.wrong(), swept.wrong()
    assert len(swept.truth) == 17
    assert {
        "stepfunctions.activity",
        "config.config_rule",
        "emr.cluster",
        "guardduty.detector",
        "network-firewall.firewall",
    } <= tagged_types(swept.items)
    # Glue connection properties are redacted; the password never leaves AWS at all.
    connection = next(i for i in swept.items if i["resource_type"]["S"] == "glue.connection")
    assert "not-the-secret" not in json.dumps(connection)
    properties = json.loads(connection["attributes"]["S"])["ConnectionProperties"]
    assert properties["USERNAME"].startswith("<redacted:hmac-sha256:")
