"""Every CloudFormation template in deploy/aws/ passes cfn-lint with no error and no warning."""

from __future__ import annotations

from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_file

pytestmark = pytest.mark.unit
TEMPLATES = sorted((Path(__file__).resolve().parents[2] / "deploy" / "aws").rglob("*.yaml"))


def test_there_are_templates() -> None:
    assert {t.name for t in TEMPLATES} >= {"hub.yaml", "lambda.yaml", "member-role.yaml"}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.name)
def test_template_is_cfn_lint_clean(template: Path) -> None:
    # Two regions: resource types and properties must exist beyond us-east-1.
    matches = lint_file(template, config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    assert not matches, "\n".join(str(m) for m in matches)
