"""Lambda mode reads what the long-running groups read: one event source mapping per input
topic of the describer and of the sink (kafka_acl.STAGES says which those are)."""

from __future__ import annotations

import pytest

from consumers.describer.main import input_topics
from fleetstream.base.config import load_settings
from fleetstream.kafka.acl import STAGES
from tests.unit.test_events_templates import template

pytestmark = pytest.mark.unit


def _mapped_topics(function: str) -> set[str]:
    resources = template("lambda.yaml")["Resources"].values()
    return {
        topic.removeprefix("${TopicPrefix}")
        for resource in resources
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
        and resource["Properties"]["FunctionName"] == function
        for topic in resource["Properties"]["Topics"]
    }


def test_the_describer_function_reads_every_topic_the_describer_group_reads() -> None:
    settings = load_settings(None, env={"FLEETSTREAM_KAFKA__TOPIC_PREFIX": ""})
    assert _mapped_topics("DescriberFunction") == set(input_topics(settings))


def test_the_sink_function_reads_every_topic_the_sink_group_reads() -> None:
    assert _mapped_topics("SinkFunction") == set(STAGES["sink"].consumes)
