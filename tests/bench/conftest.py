"""Benchmark harnesses on the session's stack: Kafka and DynamoDB Local are only health-checked,
and the simulator, not moto, is the AWS endpoint."""

from __future__ import annotations

import pytest

from devstack import StackEndpoints


@pytest.fixture
def harness_env(local_stack: StackEndpoints, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point a benchmark harness at the session's Kafka and DynamoDB Local."""
    assert local_stack.kafka_bootstrap and local_stack.dynamodb_endpoint
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", local_stack.kafka_bootstrap)
    monkeypatch.setenv("FLEETSTREAM_DYNAMODB_ENDPOINT", local_stack.dynamodb_endpoint)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
