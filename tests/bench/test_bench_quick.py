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


@pytest.mark.usefixtures("harness_env")
def test_quick_second_sweep_skips_unchanged_items_and_reports_only_the_deletions(
    tmp_path: Path,
) -> None:
    """`--sweeps 2 --terminate 3` with sink.skip_unchanged: the first sweep writes and creates
    every item; the second writes none of the unchanged ones and emits exactly the 3 DELETED
    of the instances terminated in between (counts, never timings)."""
    results = run.main(
        [
            "--scenario=S1",
            "--quick",
            "--systems=fleetstream",
            "--sweeps=2",
            "--terminate=3",
            f"--out={tmp_path / 'results'}",
            f"--work={tmp_path / 'work'}",
            "--timeout=300",
        ],
        echo=lambda _: None,
    )
    [shape] = results
    [fleetstream] = shape.runs
    first, second = fleetstream.sweeps
    assert (first.resources, first.inventory_writes, first.changes) == (400, 400, {"CREATED": 400})
    assert first.failed_shards == second.failed_shards == 0
    assert second.terminated_before == 3
    assert (second.resources, second.inventory_writes) == (397, 0), fleetstream.notes
    assert second.unchanged_skipped == 397
    assert second.changes == {"DELETED": 3}
    # The evidence deletion needs is still written: one mark per shard and sweep.
    assert first.seen_marks == second.seen_marks == 8
    assert second.seen_wcu > 0 and second.inventory_wcu == 0
    report = (tmp_path / "results" / "S1-quick-second-sweep.md").read_text()
    assert "exactly 3 DELETED and nothing else: DELETED 3: met" in report
