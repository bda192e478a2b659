"""JSON logs off a terminal, and the sweep's progress lines."""

from __future__ import annotations

import io
import json
import logging

import pytest

from fleetstream.apps.progress import LineProgress
from fleetstream.base.logs import JsonFormatter, wants_json
from fleetstream.base.models import ShardStatus
from fleetstream.inventory.sweeps import ShardRecord, SweepProgress

pytestmark = pytest.mark.unit


def test_json_lines_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLEETSTREAM_LOG_FORMAT", raising=False)
    assert wants_json(io.StringIO())
    monkeypatch.setenv("FLEETSTREAM_LOG_FORMAT", "text")
    assert not wants_json(io.StringIO())
    record = logging.LogRecord("fleetstream.x", logging.INFO, __file__, 1, "hello %s", ("w",), None)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "hello w"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "fleetstream.x"


def test_line_progress_reports_shards_failures_and_rate() -> None:
    lines: list[str] = []
    shard = ShardRecord(
        "1/r/t", "1", "", "r", "t", ShardStatus.COMPLETE, 50, 1, error_code=None, reason=None
    )
    failed = ShardRecord("2/r/t", "2", "", "r", "t", ShardStatus.FAILED, 0, 1, "X", "why")
    LineProgress(lines.append, every_s=0).update(SweepProgress("s", 4, (shard, failed)), 10.0)
    assert lines == ["  2/4 shards finished, 1 failed, 50 resources, 5/s"]
