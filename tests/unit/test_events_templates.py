"""The EventBridge templates forward exactly the event sources the catalog refreshes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetstream.catalog import CATALOG

pytestmark = pytest.mark.unit
AWS = Path(__file__).resolve().parents[2] / "deploy" / "aws"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !GetAtt, ...) read as plain values."""


def _tagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    assert isinstance(node, yaml.MappingNode)
    return loader.construct_mapping(node)


_CfnLoader.add_multi_constructor("!", _tagged)


def template(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load((AWS / name).read_text(), Loader=_CfnLoader)
    return loaded


def test_member_rule_forwards_every_source_the_catalog_refreshes_on() -> None:
    pattern = template("events-member.yaml")["Resources"]["ForwardManagementEvents"]["Properties"][
        "EventPattern"
    ]
    wanted = {
        "aws." + rule.source.removesuffix(".amazonaws.com")
        for entry in CATALOG.values()
        if entry.refresh is not None
        for rule in entry.refresh.events
    }
    assert set(pattern["source"]) == wanted
    assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]


def test_hub_rule_targets_the_forwarder_with_retries_and_a_dead_letter_queue() -> None:
    resources = template("events-hub.yaml")["Resources"]
    target = resources["ToEventsTopic"]["Properties"]["Targets"][0]
    assert target["Arn"] == "Forwarder.Arn"
    assert "DeadLetterConfig" in target and "RetryPolicy" in target
    command = resources["Forwarder"]["Properties"]["ImageConfig"]["Command"]
    assert command == ["fleetstream.apps.lambda_mode.handlers.forward_event"]


def test_hub_rule_takes_only_events_aws_emitted() -> None:
    # PutEvents cannot send a source that begins with "aws.": no account can forge these.
    pattern = template("events-hub.yaml")["Resources"]["ToEventsTopic"]["Properties"][
        "EventPattern"
    ]
    assert pattern["source"] == [{"prefix": "aws."}]
    assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]
