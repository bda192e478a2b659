"""The benchmark harness end to end on the quick S1 shape: correctness only, never timings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import run
from fleetstream.devstack import StackEndpoints

pytestmark = pytest.mark.bench


def test_quick_s1_serial_and_fleetstream_find_every_instance(
    local_stack: StackEndpoints, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The harness brings up Kafka and DynamoDB Local itself; pointed at the session's stack it
    # only health-checks them. The simulator, not moto, is the AWS endpoint of every system.
    assert local_stack.kafka_bootstrap and local_stack.dynamodb_endpoint
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", local_stack.kafka_bootstrap)
    monkeypatch.setenv("FLEETSTREAM_DYNAMODB_ENDPOINT", local_stack.dynamodb_endpoint)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
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
