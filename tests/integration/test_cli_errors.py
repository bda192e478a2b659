"""Bad input and unreachable dependencies: one actionable line within seconds, never a hang.

Bad input exits 2 (usage/config error); an unreachable dependency exits 75 (transient outage).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devstack import StackEndpoints
from fleetstream.base.exit_codes import ExitCode
from fleetstream.runtime.workers import free_port

pytestmark = pytest.mark.integration
LIMIT_S = 10.0


def run_cli(args: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "fleetstream", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stderr.strip(), time.monotonic() - started


def assert_one_line(
    code: int, stderr: str, elapsed: float, expected: str, exit_code: int = ExitCode.USAGE
) -> None:
    assert code == exit_code, stderr
    assert stderr.count("\n") == 0, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("fleetstream: error: ")
    assert expected in stderr
    assert elapsed < LIMIT_S, f"took {elapsed:.1f}s"


@pytest.fixture
def healthy_env(local_stack: StackEndpoints) -> dict[str, str]:
    assert local_stack.kafka_bootstrap and local_stack.dynamodb_endpoint
    assert local_stack.aws_endpoint
    return {
        "KAFKA_BOOTSTRAP_SERVERS": local_stack.kafka_bootstrap,
        "FLEETSTREAM_DYNAMODB_ENDPOINT": local_stack.dynamodb_endpoint,
        "AWS_ENDPOINT_URL": local_stack.aws_endpoint,
    }


def test_unknown_config_key(tmp_path: Path, healthy_env: dict[str, str]) -> None:
    config = tmp_path / "fleetstream.yaml"
    config.write_text("kafka:\n  bootstrap_server: 127.0.0.1:9092\n")
    assert_one_line(
        *run_cli(["--config", str(config), "sweep"], healthy_env),
        "unknown key 'kafka.bootstrap_server'",
    )


def test_invalid_role_name(healthy_env: dict[str, str]) -> None:
    env = healthy_env | {"FLEETSTREAM_AWS__MEMBER_ROLE_NAME": "role with spaces"}
    assert_one_line(*run_cli(["plan"], env), "not a valid IAM role name")


def test_unreachable_broker(healthy_env: dict[str, str]) -> None:
    env = healthy_env | {"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}
    for command in (["plan"], ["describer"], ["sink"], ["sweep"]):
        assert_one_line(
            *run_cli(command, env), "cannot reach Kafka at 127.0.0.1:", ExitCode.UNAVAILABLE
        )


def test_unreachable_aws_endpoint(healthy_env: dict[str, str]) -> None:
    env = healthy_env | {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    assert_one_line(
        *run_cli(["plan"], env), "cannot use AWS at http://127.0.0.1:", ExitCode.UNAVAILABLE
    )


def test_unreachable_dynamodb(healthy_env: dict[str, str]) -> None:
    env = healthy_env | {"FLEETSTREAM_DYNAMODB_ENDPOINT": f"http://127.0.0.1:{free_port()}"}
    assert_one_line(
        *run_cli(["plan"], env), "cannot use DynamoDB at http://127.0.0.1:", ExitCode.UNAVAILABLE
    )
