"""CloudTrail trails, CloudWatch alarms, the Config recorder and launch configurations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack import StackEndpoints
from fleetstream.base.config import Settings
from tests.integration.catalog_e2e_support import sweep_seeded, tagged_types
from tests.integration.catalog_seeds import seed_operations

pytestmark = pytest.mark.integration


def test_operations_types_match_the_seed_exactly(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    swept = sweep_seeded(local_stack, monkeypatch, log_dir, seed_operations)

    assert not swept.wrong(), swept.wrong()
    assert len(swept.truth) == 4
    assert {"cloudtrail.trail", "cloudwatch.alarm"} <= tagged_types(swept.items)
    # Launch configurations' user data is redacted, not dropped.
    configuration = next(
        i for i in swept.items if i["resource_type"]["S"] == "autoscaling.launch_configuration"
    )
    user_data = json.loads(configuration["attributes"]["S"])["UserData"]
    assert user_data.startswith("<redacted:hmac-sha256:")
