"""IAM groups, access keys, OIDC providers, instance profiles, Shield protections (global),
KMS aliases and Cognito pools from moto.

No e2e for iam.saml_provider and iam.server_certificate: moto lacks ListSAMLProviderTags and
ListServerCertificateTags (their contract tests run against botocore's models).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devstack import StackEndpoints
from fleetstream.base.config import Settings
from fleetstream.base.models import GLOBAL_REGION
from tests.integration.catalog_e2e_support import sweep_seeded, tagged_types
from tests.integration.catalog_seeds import seed_identity

pytestmark = pytest.mark.integration


def test_identity_types_match_the_seed_exactly(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    swept = sweep_seeded(local_stack, monkeypatch, log_dir, seed_identity)

    assert not swept.wrong(), swept.wrong()
    assert len(swept.truth) == 8
    regions = {(t, fact[1]) for t, facts in swept.truth.items() for fact in facts}
    assert ("iam.group", GLOBAL_REGION) in regions
    assert ("kms.alias", "eu-west-1") in regions
    # AWS managed aliases (alias/aws/...) are not inventory.
    aliases = {fact[2] for fact in swept.found["kms.alias"]}
    assert not [a for a in aliases if a.startswith("alias/aws/")]
    assert {"cognito-identity.identity_pool", "cognito-idp.user_pool"} <= tagged_types(swept.items)
    # An alias points at its key: the edge resolves to the key's ARN.
    alias = next(i for i in swept.items if i["resource_type"]["S"] == "kms.alias")
    edges = json.loads(alias["attributes"]["S"])["relationships"]["is_associated_with"]
    assert [e["target_type"] for e in edges] == ["kms.key"]
