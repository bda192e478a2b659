"""`fleetstream sweeps list` on DynamoDB Local: recent sweeps newest first, with status counts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from fleetstream.apps.cli import _Context, main
from fleetstream.aws.clients import dynamodb_client
from fleetstream.base.config import Settings
from fleetstream.base.models import ShardOutcome, ShardStatus, utc_now
from fleetstream.inventory.dynamodb import Tables
from fleetstream.inventory.sweeps import SweepStore

pytestmark = pytest.mark.integration
T0 = utc_now().replace(microsecond=0)


def outcome(sweep_id: str, region: str, status: ShardStatus, count: int) -> ShardOutcome:
    failed = status is ShardStatus.FAILED
    return ShardOutcome(
        sweep_id=sweep_id,
        account_id="111111111111",
        region=region,
        resource_type="ec2.instance",
        status=status,
        resource_count=count,
        pages=1,
        shard_started_at=T0,
        finished_at=T0 + timedelta(seconds=1),
        error_code="AccessDenied" if failed else None,
        reason="role not assumable" if failed else None,
    )


def sweeps(*args: str) -> tuple[int, str]:
    """`fleetstream sweeps ARGS...` with the settings of the environment (the pipeline's)."""
    result = CliRunner().invoke(main.commands["sweeps"], list(args), obj=_Context(None))
    return result.exit_code, result.output


def test_sweeps_list_newest_first_with_status_counts(pipeline: Settings) -> None:
    client = dynamodb_client(pipeline)
    Tables(client, pipeline.sink.table, pipeline.sink.sweeps_table).ensure()
    store = SweepStore(client, pipeline.sink.sweeps_table, timedelta(days=1))
    store.record_sweep("sweep-old", 2, T0 - timedelta(hours=1))
    store.record_outcome(outcome("sweep-old", "eu-west-1", ShardStatus.COMPLETE, 3))
    store.record_outcome(outcome("sweep-old", "us-east-1", ShardStatus.COMPLETE, 4))
    store.record_sweep("sweep-new", 4, T0)
    store.record_outcome(outcome("sweep-new", "eu-west-1", ShardStatus.COMPLETE, 5))
    store.record_outcome(outcome("sweep-new", "us-east-1", ShardStatus.FAILED, 0))
    store.record_outcome(outcome("sweep-new", "sa-east-1", ShardStatus.ACCOUNT_GONE, 0))
    # Outcomes of a sweep still issuing shards (no header yet): not listed.
    store.record_outcome(outcome("sweep-issuing", "eu-west-1", ShardStatus.COMPLETE, 9))

    code, out = sweeps("list", "--output", "json")
    assert code == 0, out
    assert json.loads(out) == [
        {
            "sweep_id": "sweep-new",
            "started_at": T0.isoformat(),
            "shards": 4,
            "COMPLETE": 1,
            "FAILED": 1,
            "ACCOUNT_GONE": 1,
            "PENDING": 1,
            "resources": 5,
        },
        {
            "sweep_id": "sweep-old",
            "started_at": (T0 - timedelta(hours=1)).isoformat(),
            "shards": 2,
            "COMPLETE": 2,
            "FAILED": 0,
            "ACCOUNT_GONE": 0,
            "PENDING": 0,
            "resources": 7,
        },
    ]

    code, out = sweeps("list", "--limit", "1")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split() == [
        "sweep",
        "started",
        "shards",
        "complete",
        "failed",
        "gone",
        "pending",
        "resources",
    ]
    assert [line.split() for line in lines[2:]] == [
        ["sweep-new", T0.isoformat(), "4", "1", "1", "1", "1", "5"]
    ]
