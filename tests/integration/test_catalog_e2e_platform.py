"""AppSync, Backup, Batch, CodePipeline, DMS, Elastic Beanstalk, MQ, Service Catalog, Resolver
rules, Glue databases, SSM documents, Route 53 health checks, endpoint services, Spot Fleets.

No e2e for elasticbeanstalk.environment (moto leaves EnvironmentId empty) and
transfer.server (moto lacks ListTagsForResource for Transfer).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack import StackEndpoints
from fleetstream.base.config import Settings
from fleetstream.base.models import GLOBAL_REGION
from tests.integration.catalog_e2e_support import sweep_seeded, tagged_types
from tests.integration.catalog_seeds import seed_platform

pytestmark = pytest.mark.integration


def test_platform_types_match_the_seed_exactly(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    swept = sweep_seeded(local_stack, monkeypatch, log_dir, seed_platform)

    assert not swept.wrong(), swept.wrong()
    assert len(swept.truth) == 16
    assert {fact[1] for fact in swept.truth["route53.health_check"]} == {GLOBAL_REGION}
    assert {
        "appsync.graphql_api",
        "backup.backup_vault",
        "batch.job_queue",
        "codepipeline.pipeline",
        "dms.replication_instance",
        "mq.broker",
        "servicecatalog.portfolio",
        "route53resolver.resolver_rule",
        "ssm.document",
    } <= tagged_types(swept.items)
