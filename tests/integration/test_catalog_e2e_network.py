"""EC2 networking beyond VPCs and subnets, and Classic Load Balancers, swept from moto."""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack import StackEndpoints
from fleetstream.base.config import Settings
from tests.integration.catalog_e2e_support import sweep_seeded, tagged_types
from tests.integration.catalog_seeds import seed_network

pytestmark = pytest.mark.integration


def test_network_types_match_the_seed_exactly(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    swept = sweep_seeded(local_stack, monkeypatch, log_dir, seed_network)

    assert not swept.wrong(), swept.wrong()
    assert len(swept.truth) == 11
    assert all(len(facts) >= 2 for facts in swept.truth.values())
    # Classic ELB tags come from a batched DescribeTags matched by name.
    assert "elb.load_balancer" in tagged_types(swept.items)
