"""RDS subnet groups and event subscriptions, ElastiCache replication and subnet groups,
Redshift, OpenSearch, Glue and SageMaker.

No e2e for sagemaker.domain: moto's ListDomains fails in its paginator (TypeError).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack import StackEndpoints
from fleetstream.base.config import Settings
from tests.integration.catalog_e2e_support import sweep_seeded, tagged_types
from tests.integration.catalog_seeds import seed_data

pytestmark = pytest.mark.integration


def test_data_types_match_the_seed_exactly(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    swept = sweep_seeded(local_stack, monkeypatch, log_dir, seed_data)

    assert not swept.wrong(), swept.wrong()
    assert len(swept.truth) == 12
    assert {"rds.db_subnet_group", "redshift.cluster", "opensearch.domain"} <= tagged_types(
        swept.items
    )
    # Glue job arguments are redacted, not dropped.
    job = next(i for i in swept.items if i["resource_type"]["S"] == "glue.job")
    arguments = json.loads(job["attributes"]["S"])["DefaultArguments"]
    assert "not-the-secret" not in json.dumps(arguments)
    assert arguments["--db-password"].startswith("<redacted:hmac-sha256:")
