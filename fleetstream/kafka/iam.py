"""MSK IAM policies per stage, generated from fleetstream.kafka.acl.STAGES into hub.yaml.

`fleetstream deploy render-kafka-policies --write` replaces the generated blocks of
deploy/aws/hub.yaml (one AWS::IAM::ManagedPolicy per stage, and their ARNs as outputs);
tests/unit/test_kafka_policies.py fails when the committed blocks differ from this output.
Group ids are the settings' defaults, topics carry the stack's ${TopicPrefix}.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from fleetstream.base.config import Settings, load_settings
from fleetstream.kafka.acl import STAGES, Stage

TEMPLATE_PATH = "deploy/aws/hub.yaml"
REGENERATE = "fleetstream deploy render-kafka-policies --write"
RESOURCES_BLOCK = "Kafka policies"
OUTPUTS_BLOCK = "Kafka policy outputs"

# Which stages each task role of hub.yaml runs: its Kafka permissions are their union.
HUB_ROLES: dict[str, tuple[str, ...]] = {
    "HubTaskRole": ("describer",),
    "PlannerTaskRole": ("planner",),
    "SinkTaskRole": ("sink",),
    "LagExporterTaskRole": ("lag-exporter",),
    "RouterTaskRole": ("router",),
    "ActionPlannerTaskRole": ("action-planner",),
    "ActorTaskRole": ("actor",),
}


class _Flow(dict[str, Any]):
    """A mapping written on one line ({Ref: X}), as the hand-written parts of hub.yaml are."""


_CLUSTER = _Flow({"Fn::GetAtt": ["ClusterArnParameter", "Value"]})
# The cluster ARN is arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID; topic, group and
# transactional-id ARNs reuse NAME/UUID.
_NAME_UUID = {"Cluster": _Flow({"Fn::Select": [1, {"Fn::Split": [":cluster/", _CLUSTER]}]})}
_ARN = "arn:${AWS::Partition}:kafka:${AWS::Region}:${AWS::AccountId}:%s/${Cluster}/%s"


def policy_name(stage: Stage) -> str:
    """The logical id of a stage's managed policy, e.g. KafkaActionPlannerPolicy."""
    return "Kafka" + "".join(part.capitalize() for part in stage.name.split("-")) + "Policy"


def _resources(kind: str, names: list[str]) -> dict[str, Any]:
    """Several ARNs of one kind in one Fn::Sub (CloudFormation has no list form of Sub)."""
    arns = ",".join(_ARN % (kind, name) for name in names)
    return {"Fn::Split": [",", {"Fn::Sub": [arns, _NAME_UUID]}]}


def _topics(names: tuple[str, ...]) -> list[str]:
    return ["${TopicPrefix}" + name for name in names]


def stage_statements(stage: Stage, defaults: Settings) -> list[dict[str, Any]]:
    """The IAM statements that let a stage do exactly what its declaration says."""
    cluster = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
    if stage.group is not None:
        cluster.append("kafka-cluster:DescribeClusterDynamicConfiguration")  # Lambda's pollers
    if stage.produces:
        cluster.append("kafka-cluster:WriteDataIdempotently")
    statements: list[dict[str, Any]] = [
        {"Sid": "Cluster", "Effect": "Allow", "Action": cluster, "Resource": _CLUSTER}
    ]

    def allow(sid: str, actions: list[str], kind: str, names: list[str]) -> None:
        if names:
            statements.append(
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Action": [f"kafka-cluster:{a}" for a in actions],
                    "Resource": _resources(kind, names),
                }
            )

    allow("Read", ["DescribeTopic", "ReadData"], "topic", _topics(stage.consumes))
    allow("Write", ["DescribeTopic", "WriteData"], "topic", _topics(stage.produces))
    allow("Describe", ["DescribeTopic"], "topic", _topics(stage.describes))
    allow(
        "Create",
        ["CreateTopic", "DescribeTopic", "DescribeTopicDynamicConfiguration"],
        "topic",
        _topics(stage.created_topics()),
    )
    group_id = stage.group_id(defaults)
    if group_id is not None:
        allow("Group", ["AlterGroup", "DescribeGroup"], "group", [f"{group_id}*"])
        if stage.transactional:
            allow(
                "Transactions",
                ["AlterTransactionalId", "DescribeTransactionalId"],
                "transactional-id",
                [f"{group_id}-*"],
            )
    allow("Watch", ["DescribeGroup"], "group", stage.watched_groups(defaults))
    return statements


def policy_resources() -> dict[str, Any]:
    """One managed policy per stage (CloudFormation resources, as data)."""
    defaults = load_settings(None, env={})
    return {
        policy_name(stage): {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "Description": f"fleetstream {stage.name}: its own topics, group and ids (MSK IAM)",
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": stage_statements(stage, defaults),
                },
            },
        }
        for stage in STAGES.values()
    }


def policy_outputs() -> dict[str, Any]:
    """Every policy's ARN, for the clients other stacks and operators run."""
    return {
        f"{policy_name(stage)}Arn": {
            "Description": f"Kafka permissions of the {stage.name} stage",
            "Value": {"Ref": policy_name(stage)},
        }
        for stage in STAGES.values()
    }


class _NoAliases(yaml.SafeDumper):
    """Writes shared values (the cluster ARN) out in full: no &anchors in a template."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_NoAliases.add_representer(
    _Flow,
    lambda dumper, data: dumper.represent_mapping(
        "tag:yaml.org,2002:map", data.items(), flow_style=True
    ),
)


def _block(name: str, body: dict[str, Any]) -> str:
    text = yaml.dump(body, Dumper=_NoAliases, sort_keys=False, width=200, default_flow_style=False)
    indented = "".join(f"  {line}\n" for line in text.splitlines())
    return (
        f"  # BEGIN GENERATED {name} (fleetstream/kafka/acl.py): `{REGENERATE}`\n"
        f"{indented}"
        f"  # END GENERATED {name}\n"
    )


def _marked(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"^  # BEGIN GENERATED {re.escape(name)} .*?^  # END GENERATED {re.escape(name)}\n",
        re.MULTILINE | re.DOTALL,
    )


def render_hub(text: str) -> str:
    """hub.yaml with its generated blocks replaced by what the declaration generates now."""
    for name, body in ((RESOURCES_BLOCK, policy_resources()), (OUTPUTS_BLOCK, policy_outputs())):
        found = _marked(name).search(text)
        if found is None:
            raise ValueError(f"{TEMPLATE_PATH} has no generated block '{name}'")
        text = text[: found.start()] + _block(name, body) + text[found.end() :]
    return text


def write_hub(path: Path) -> bool:
    """Regenerate the blocks in place; True when the file changed."""
    old = path.read_text()
    new = render_hub(old)
    if new != old:
        path.write_text(new)
    return new != old
