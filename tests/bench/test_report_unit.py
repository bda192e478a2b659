"""Pure pieces of the benchmark reports: S2's rate-limit floor and the profile summary."""

from __future__ import annotations

import pytest

from bench.profile import markdown, parse_collapsed
from bench.scenarios import Shape, sim_config, tagging_floor
from bench.simulator.config import BucketConfig, ThrottleConfig


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
