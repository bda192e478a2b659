"""A DynamoDB fault on a paginated read never ends the sink, on the real stack: the sink's loop
reaches DynamoDB Local through the chaos fault layer, which fails every Query (the seen-marks
read a changed observation needs) until healed. The batch waits and is redone; once the fault
heals, the observation is written, nothing lost."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from devstack import StackEndpoints
from fleetstream.base.config import Settings, load_settings
from fleetstream.base.models import utc_now
from fleetstream.kafka import clients as kafka
from tests.chaos.dynamodb_faults import FAILURES, DynamoDBFaults
from tests.integration.helpers import ec2_observation, inventory_items
from tests.integration.test_deletion_evidence import produce_events, sink_loop

pytestmark = pytest.mark.integration


@pytest.fixture
def layer(local_stack: StackEndpoints) -> Iterator[DynamoDBFaults]:
    assert local_stack.dynamodb_endpoint
    host, port = local_stack.dynamodb_endpoint.removeprefix("http://").rsplit(":", 1)
    faults = DynamoDBFaults(host, int(port), seed=13)
    yield faults
    faults.close()


def observed_ms(settings: Settings, resource_id: str) -> int | None:
    item = inventory_items(settings).get(resource_id)
    return int(item["observed_at_ms"]["N"]) if item else None


@pytest.mark.parametrize("failure", FAILURES)
def test_a_failing_seen_marks_query_pauses_the_batch_and_loses_nothing(
    pipeline: Settings,
    layer: DynamoDBFaults,
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
) -> None:
    kafka.ensure_topics(pipeline.kafka)
    monkeypatch.setenv("FLEETSTREAM_DYNAMODB_ENDPOINT", layer.endpoint)
    through_layer = load_settings(None)
    now = utc_now()
    first = ec2_observation("i-1", now - timedelta(minutes=2), size="small")
    # Changed attributes: the sink reads the shard's later seen marks (a paginated Query)
    # before it writes the change.
    changed = ec2_observation("i-1", now - timedelta(minutes=1), size="large")
    with sink_loop(through_layer) as sink:
        produce_events(pipeline, [first])
        wait_for(lambda: observed_ms(pipeline, "i-1") is not None, "first observation written")
        layer.fail({"Query"}, failure)
        produce_events(pipeline, [changed])
        retries = batch_retries(pipeline)
        # Two batch attempts meet the fault: the first, and the redo after the pause.
        wait_for(
            lambda: batch_retries(pipeline) >= retries + 2 or not sink.is_alive(),
            "the batch paused twice on the failing Query",
        )
        assert sink.is_alive(), "the sink's loop ended on a DynamoDB Query fault"
        assert layer.served[f"failed Query ({failure})"] >= 2
        assert observed_ms(pipeline, "i-1") == int(first.observed_at.timestamp() * 1000)
        layer.heal()
        wait_for(
            lambda: (
                observed_ms(pipeline, "i-1") == int(changed.observed_at.timestamp() * 1000)
                or not sink.is_alive()
            ),
            "changed observation written after the fault healed",
        )
        assert sink.is_alive(), "the sink's loop ended on a DynamoDB Query fault"
    print(f"{failure}: {dict(layer.served)}")
    item = inventory_items(pipeline)["i-1"]
    assert '"InstanceType":"large"' in item["attributes"]["S"]


def batch_retries(settings: Settings) -> float:
    """Batches the sink put back to redo after a pause (RetryBatchError), so far."""
    labels = {"group": settings.sink.group_id, "kind": "retry"}
    return REGISTRY.get_sample_value("fleetstream_errors_total", labels) or 0.0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 180
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.25)
