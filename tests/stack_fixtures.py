"""pytest plugin: one real local stack (Kafka, DynamoDB Local, moto) per test session.

Load it from conftest.py with `pytest_plugins = ["tests.stack_fixtures"]`.

- `devstack` (session): the LocalStack, started in a temporary directory and stopped at the
  end of the session, also when tests fail. Use it to stop/start components in fault tests.
- `local_stack` (session): its StackEndpoints.

Bring your own servers with KAFKA_BOOTSTRAP_SERVERS, FLEETSTREAM_DYNAMODB_ENDPOINT and
AWS_ENDPOINT_URL; those components are then only health-checked, never started or stopped.
With FLEETSTREAM_KAFKA=testcontainers (and no KAFKA_BOOTSTRAP_SERVERS) Kafka runs in a
testcontainers KafkaContainer instead of the local JVM; that needs a working Docker engine
and fails the session with a clear message when `docker info` does not succeed.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator

import pytest

from devstack import LocalStack, StackEndpoints, StackError

KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"


def _docker_works() -> bool:
    """Return True when `docker info` reaches an engine."""
    try:
        done = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@contextlib.contextmanager
def _kafka_container() -> Iterator[str]:
    """Run Kafka (KRaft) in a container and yield its bootstrap servers."""
    if not _docker_works():
        pytest.fail(
            "FLEETSTREAM_KAFKA=testcontainers but `docker info` failed: no Docker "
            "engine. Unset FLEETSTREAM_KAFKA to run Kafka from the local JVM.",
            pytrace=False,
        )
    # Imported only when asked for: it pulls in the Docker SDK.
    from testcontainers.community.kafka import KafkaContainer

    with KafkaContainer(KAFKA_IMAGE).with_kraft() as kafka:
        yield str(kafka.get_bootstrap_server())


@pytest.fixture(scope="session")
def devstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """Start the local stack for the session and stop it at the end, whatever happened."""
    environ = dict(os.environ)
    with contextlib.ExitStack() as cleanup:
        if environ.get("FLEETSTREAM_KAFKA") == "testcontainers" and not environ.get(
            "KAFKA_BOOTSTRAP_SERVERS"
        ):
            environ["KAFKA_BOOTSTRAP_SERVERS"] = cleanup.enter_context(_kafka_container())
        stack = LocalStack(tmp_path_factory.mktemp("stack"), environ=environ)
        cleanup.callback(stack.stop)
        try:
            stack.start()
        except StackError as error:
            pytest.fail(f"local stack did not start: {error}", pytrace=False)
        yield stack


@pytest.fixture(scope="session")
def local_stack(devstack: LocalStack) -> StackEndpoints:
    """Return the endpoints of the session's local stack."""
    return devstack.endpoints()


@pytest.fixture(scope="session")
def schema_registry(devstack: LocalStack) -> str:
    """The Confluent-compatible URL of a real schema registry (Apicurio Registry, in memory),
    started on first use only: most sessions never build or run it."""
    try:
        endpoints = devstack.start(["schema-registry"])
    except StackError as error:
        pytest.fail(f"schema registry did not start: {error}", pytrace=False)
    assert endpoints.schema_registry_url
    return endpoints.schema_registry_url
