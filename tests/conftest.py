"""Shared fixtures: the session's real local stack and per-test isolated pipeline settings."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import StackEndpoints
from fleetstream.base.config import Settings, isolated_env, load_settings
from fleetstream.serde import avro as serde

pytest_plugins = [
    "tests.stack_fixtures",
    "tests.prometheus_fixtures",
    "tests.webhook_server",
    "tests.run_report",
]

# moto accepts any credentials; never let a developer's real AWS profile leak into tests.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
)
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "KAFKA_BOOTSTRAP_SERVERS_UNUSED"):
    os.environ.pop(_name, None)


def pipeline_env(endpoints: StackEndpoints, tag: str, **extra: str) -> dict[str, str]:
    """Environment overrides that point fleetstream at the stack, isolated by a tag."""
    assert endpoints.kafka_bootstrap and endpoints.dynamodb_endpoint and endpoints.aws_endpoint
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
        "FLEETSTREAM_DYNAMODB_ENDPOINT": endpoints.dynamodb_endpoint,
        "AWS_ENDPOINT_URL": endpoints.aws_endpoint,
        "FLEETSTREAM_KAFKA__PARTITIONS": "4",
        "FLEETSTREAM_METRICS__STATS_INTERVAL_MS": "500",
        **isolated_env(tag, f"t{tag}."),
    }
    env.update(extra)
    return env


@pytest.fixture
def tag() -> str:
    """A short unique name for this test's topics, tables and groups."""
    return uuid.uuid4().hex[:8]


@pytest.fixture
def pipeline(
    local_stack: StackEndpoints, tag: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings for an isolated pipeline on the session stack; env set for child processes."""
    for name, value in pipeline_env(local_stack, tag).items():
        monkeypatch.setenv(name, value)
    yield load_settings(None)


@pytest.fixture
def registry_settings(
    pipeline: Settings, schema_registry: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """The isolated pipeline with the registry configured; local framing restored after."""
    monkeypatch.setenv("FLEETSTREAM_SCHEMA_REGISTRY_URL", schema_registry)
    yield load_settings(None)
    serde.install({})


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    """Where worker processes of a test write their logs."""
    path = tmp_path / "logs"
    path.mkdir()
    return path
