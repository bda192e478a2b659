"""The benchmark harness end to end on the quick S1 shape: correctness only, never timings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import run

pytestmark = pytest.mark.bench


@pytest.mark.usefixtures("harness_env")
def test_quick_s1_serial_and_fleetstream_find_every_instance(tmp_path: Path) -> None:
    lines: list[str] = []
    results = run.main(
        [
            "--scenario=S1",
            "--quick",
            "--systems=serial,fleetstream",
            f"--out={tmp_path / 'results'}",
            f"--work={tmp_path / 'work'}",
            "--timeout=120",
        ],
        echo=lines.append,
    )
    [shape] = results
    assert [r.system for r in shape.runs] == ["serial", "fleetstream"], shape.skipped
    for system_run in shape.runs:
        assert system_run.expected == shape.shape.total == 400
        assert system_run.found == system_run.expected, (system_run.system, system_run.notes)
        assert system_run.failed_shards == 0
        assert system_run.calls > 0
    report = (tmp_path / "results" / "S1-quick.md").read_text()
    assert "| serial |" in report and "| fleetstream |" in report
    assert "Critical path" in report
