"""checkov scans every CloudFormation template in deploy/: no failed check, every skip justified.

checkov runs from its own cached virtualenv (devstack/scanner.py), installed on
first use; a skip is a `Metadata: checkov: skip:` entry on the resource, with a comment saying
why the finding does not apply.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack.scanner import ScanReport, scan

pytestmark = pytest.mark.unit
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TEMPLATES = sorted(p.relative_to(DEPLOY).as_posix() for p in (DEPLOY / "aws").rglob("*.yaml"))


@pytest.fixture(scope="module")
def report() -> ScanReport:
    return scan(DEPLOY)


def test_every_template_is_scanned(report: ScanReport) -> None:
    assert not report.parsing_errors
    scanned = {f.lstrip("/") for f in report.files}
    assert set(TEMPLATES) <= scanned, set(TEMPLATES) - scanned


def test_no_check_fails(report: ScanReport) -> None:
    assert not report.failed, "\n".join(
        f"{f.check_id} {f.file} {f.resource}" for f in report.failed
    )
    assert report.passed > 100


def test_every_skip_is_justified_in_the_template(report: ScanReport) -> None:
    unjustified = [f for f in report.skipped if len(f.comment.split()) < 8]
    assert not unjustified, unjustified
