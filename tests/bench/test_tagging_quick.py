"""S2 (the fleet tagging job) end to end on its quick shape: correctness only, never timings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import tagging

pytestmark = pytest.mark.bench


@pytest.mark.usefixtures("harness_env")
def test_quick_s2_tags_every_instance_both_ways(tmp_path: Path) -> None:
    result = tagging.main(
        [
            "--quick",
            f"--out={tmp_path / 'results'}",
            f"--work={tmp_path / 'work'}",
            "--timeout=180",
        ],
        echo=print,
    )
    shape = tagging.QUICK_SHAPE
    assert result.swept == shape.total
    naive, ours = result.runs
    assert naive.tagged == ours.tagged == shape.total
    assert naive.create_tags == shape.total  # one call per instance
    assert ours.create_tags == shape.accounts * shape.regions  # one call per account-region
    report = (tmp_path / "results" / "S2-quick.md").read_text()
    assert f"| naive loop | {shape.total} |" in report
    assert f"| fleetstream act | {shape.total} |" in report
