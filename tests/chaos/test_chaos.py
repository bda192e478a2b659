"""The short chaos run of CI: one trial per fault kind against the real local stack.

The long run: `python -m tests.chaos --trials 50 --out chaos-report.md`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetstream.devstack import LocalStack
from tests.chaos.harness import FAULTS, Trial, report_table

pytestmark = pytest.mark.chaos


@pytest.mark.parametrize("fault", FAULTS)
def test_trial_loses_nothing_and_deletes_only_what_is_gone(
    devstack: LocalStack, fault: str, tmp_path: Path
) -> None:
    result = Trial(devstack, 1, fault, tmp_path).run()
    print(report_table([result]))
    assert result.lost == 0
    assert result.stale == 0
    assert result.wrongly_deleted == 0
    assert result.missing_tombstones == 0
    assert result.failed_shards_as_expected, result.notes
    assert result.dlq_found == result.dlq_expected
    assert result.ok
