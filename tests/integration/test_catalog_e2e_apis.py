"""API Gateway REST and HTTP APIs and their stages (child types) swept from moto."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack import StackEndpoints
from fleetstream.base.config import Settings
from tests.integration.catalog_e2e_support import sweep_seeded, tagged_types
from tests.integration.catalog_seeds import seed_apis

pytestmark = pytest.mark.integration


def test_api_types_match_the_seed_exactly(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    swept = sweep_seeded(local_stack, monkeypatch, log_dir, seed_apis)

    assert not swept.wrong(), swept.wrong()
    assert len(swept.truth) == 4
    assert {"apigateway.rest_api", "apigatewayv2.api"} <= tagged_types(swept.items)
    # A stage's id and ARN name its API: stage names repeat across APIs.
    stages = [i for i in swept.items if i["resource_type"]["S"] == "apigateway.stage"]
    assert len({s["arn"]["S"] for s in stages}) == 2
    for stage in stages:
        assert stage["arn"]["S"].endswith("/stages/prod")
        assert stage["arn"]["S"].startswith("arn:aws:apigateway:eu-west-1::/restapis/")
