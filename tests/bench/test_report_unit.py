"""Pure pieces of the benchmark reports: S2's rate-limit floor and the profile summary."""

from __future__ import annotations

from typing import Any

import pytest

from bench.profile import markdown, parse_collapsed
from bench.scenarios import Shape, sim_config, tagging_floor
from bench.simulator.config import BucketConfig, ThrottleConfig
from bench.sweep_report import SweepMeasure, targets
from bench.sweeps import item_bytes


def test_tagging_floor_is_one_batch_per_account_region_unless_the_bucket_binds() -> None:
    s2 = tagging_floor(sim_config(Shape(30, 16, 25)))
    assert s2.calls_per_shard == 1 and s2.min_create_tags == 480
    assert s2.shard_bound == "latency"
    assert s2.seconds == pytest.approx(0.05 + 0.05)
    slow = ThrottleConfig(mutate=BucketConfig(2, 1))
    big = tagging_floor(sim_config(Shape(2, 1, 10_000), throttle=slow))
    assert big.calls_per_shard == 10 and big.min_create_tags == 20
    assert big.shard_bound == "rate limit"
    assert big.shard_s == pytest.approx(8.0)


def test_profile_counts_inclusive_once_per_sample_and_self_by_package() -> None:
    lines = [
        "run (fleetstream/describer.py:10);parse (botocore/parsers.py:5);"
        "parse (botocore/parsers.py:7) 3",
        "run (fleetstream/describer.py:12);encode (fastavro/write.py:1) 1",
        "garbage",
    ]
    profile = parse_collapsed("describer", lines)
    assert profile.samples == 4
    assert profile.inclusive["parse (botocore/parsers.py)"] == 3  # recursion counted once
    assert profile.inclusive["run (fleetstream/describer.py)"] == 4
    assert profile.leaf == {"parse (botocore/parsers.py)": 3, "encode (fastavro/write.py)": 1}
    assert profile.packages == {"botocore": 3, "fastavro": 1}
    report = markdown([profile], "# P")
    assert "| `botocore` | 3 | 75.0 |" in report


def _sweep(index: int, **fields: Any) -> SweepMeasure:
    values: dict[str, Any] = {
        "index": index,
        "wall_s": 10.0,
        "shards": 8,
        "failed_shards": 0,
        "resources": 400,
        "terminated_before": 0,
        "inventory_writes": 400,
        "unchanged_skipped": 0,
        "stale": 0,
        "seen_marks": 8,
        "inventory_wcu": 2400.0,
        "seen_wcu": 16.0,
        "changes": {"CREATED": 400},
        "rss_mb": [("sink-0", 100.0)],
    }
    return SweepMeasure(**(values | fields))


def test_second_sweep_targets_count_writes_changes_wall_and_memory() -> None:
    first = _sweep(1)
    good = _sweep(
        2,
        wall_s=4.0,
        resources=397,
        terminated_before=3,
        inventory_writes=0,
        inventory_wcu=0.0,
        changes={"DELETED": 3},
    )
    met = targets([first, good])
    assert all(line.endswith("met") for line in met[:4]), met
    assert "3 tombstones x 6 = 18 WCU; with them 43 WCU" in met[-1]
    bad = _sweep(
        2,
        wall_s=6.0,
        inventory_writes=21,
        changes={"DELETED": 3, "MODIFIED": 1},
        rss_mb=[("describer-0", 300.0)],
    )
    assert [line.endswith("**missed**") for line in targets([first, bad])[:4]] == [True] * 4


def test_item_bytes_follows_dynamodb_size_rules() -> None:
    item = {
        "arn": {"S": "abc"},  # 3 + 3
        "n": {"N": "12345"},  # 1 + 5 // 2 + 1
        "ok": {"BOOL": True},  # 2 + 1
        "tags": {"M": {"k": {"S": "vv"}}},  # 4 + 3 + (1 + 2 + 1)
        "z": {"B": b"\x00\x01"},  # 1 + 2
    }
    assert item_bytes(item) == 6 + 4 + 3 + 11 + 3
