"""Each role of deploy/aws/hub.yaml writes only the topics its stages produce (MSK IAM).

The Kafka policies are generated from fleetstream/kafka/acl.py's STAGES, the declaration the
local broker's ACLs come from too; these tests read the template as CloudFormation does.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from fleetstream.base.config import load_settings
from fleetstream.kafka.acl import STAGES
from fleetstream.kafka.clients import TOPICS
from fleetstream.kafka.iam import HUB_ROLES, REGENERATE, TEMPLATE_PATH, policy_name, render_hub

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
HUB = ROOT / "deploy" / "aws" / "hub.yaml"
ARN_TAIL = re.compile(r"/\$\{(?:Name\}/\$\{Uuid|Cluster)\}/")


def _template() -> dict[str, Any]:
    template, matches = decode(str(HUB))
    assert not matches and template is not None
    return dict(template)


def _strings(value: Any) -> list[str]:
    """Every ARN pattern a Resource names, whatever intrinsic wraps it (Sub, Split of a Sub)."""
    if isinstance(value, str):
        return value.split(",")
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        for key in ("Fn::Sub", "Fn::Split"):
            if key in value:
                inner = value[key]
                return _strings(inner[0] if key == "Fn::Sub" and isinstance(inner, list) else inner)
    return []


def _patterns(statements: list[dict[str, Any]], action: str, kind: str) -> set[str]:
    """Resource name patterns (after the cluster's name/uuid) granted `action` on `kind`."""
    found: set[str] = set()
    for statement in statements:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        if statement["Effect"] != "Allow" or action not in actions:
            continue
        for arn in _strings(statement["Resource"]):
            if f":{kind}/" in arn and ARN_TAIL.search(arn):
                found.add(ARN_TAIL.split(arn, 1)[1].replace("${TopicPrefix}", ""))
    return found


def role_grants(template: dict[str, Any], role: str, action: str, kind: str) -> set[str]:
    """What one role may do on Kafka, through every managed and inline policy it has."""
    resources = template["Resources"]
    properties = resources[role]["Properties"]
    statements: list[dict[str, Any]] = []
    for arn in properties.get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn and arn["Ref"] in resources:
            statements += resources[arn["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
    for policy in properties.get("Policies", []):
        statements += policy["PolicyDocument"]["Statement"]
    return _patterns(statements, f"kafka-cluster:{action}", kind)


def writable_topics(template: dict[str, Any], role: str) -> set[str]:
    """The logical topics (kafka.TOPICS) a role may write."""
    patterns = role_grants(template, role, "WriteData", "topic")
    return {name for name in TOPICS if any(fnmatch.fnmatchcase(name, p) for p in patterns)}


# Which topics each hub role's stages produce (README, How it works; docs/topics.md).
EXPECTED_WRITES = {
    # the describer (a refresh that spans pages writes its next page to refresh)
    "HubTaskRole": {"work", "work-retry", "refresh", "resources", "dlq"},
    # the planners: first pages and what planning found, never resources
    "PlannerTaskRole": {"work", "plan-outcomes"},
    "SinkTaskRole": {"changes", "state", "dlq"},
    "LagExporterTaskRole": set(),
    "RouterTaskRole": {"refresh", "dlq"},
    "ActionPlannerTaskRole": {"action-work", "action-results", "dlq"},
    "ActorTaskRole": {"action-work", "action-delay", "action-results", "dlq"},
}


def test_every_role_writes_only_the_topics_its_stages_produce() -> None:
    template = _template()
    granted = {
        role: writable_topics(template, role)
        for role in EXPECTED_WRITES
        if role in template["Resources"]
    }
    assert granted == EXPECTED_WRITES


def test_only_the_action_plane_may_write_actions_or_action_work() -> None:
    template = _template()
    roles = [
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    ]
    writers = {
        role
        for role in roles
        if writable_topics(template, role) & {"actions", "action-work", "action-delay"}
    }
    assert writers == {"ActionPlannerTaskRole", "ActorTaskRole"}


def test_no_role_joins_every_group_or_holds_every_transactional_id() -> None:
    template = _template()
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for action, kind in (("AlterGroup", "group"), ("AlterTransactionalId", "transactional-id")):
            patterns = role_grants(template, name, action, kind)
            assert "*" not in patterns, f"{name} may {action} on every {kind}"


def test_the_committed_policies_are_the_generators_output() -> None:
    committed = HUB.read_text()
    assert committed == render_hub(committed), f"{TEMPLATE_PATH} is out of date: run `{REGENERATE}`"


def test_every_hub_role_holds_the_policies_of_exactly_its_stages() -> None:
    resources = _template()["Resources"]
    stage_of = {policy_name(stage): stage.name for stage in STAGES.values()}
    for role, stages in HUB_ROLES.items():
        attached = resources[role]["Properties"]["ManagedPolicyArns"]
        kafka = {stage_of[a["Ref"]] for a in attached if a.get("Ref") in stage_of}
        assert kafka == set(stages), role


def test_the_declaration_names_only_real_topics_and_settings() -> None:
    defaults = load_settings(None, env={})
    for stage in STAGES.values():
        named = stage.consumes + stage.produces + stage.describes + stage.created_topics()
        assert set(named) <= set(TOPICS), (stage.name, set(named) - set(TOPICS))
        assert stage.group_id(defaults) is None or stage.group_id(defaults)
        assert all(stage.watched_groups(defaults))
        assert not stage.transactional or stage.group is not None, stage.name
