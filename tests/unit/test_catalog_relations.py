"""Relations as data: declarations are sound, and resolve to sorted target ARNs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from fleetstream.catalog import CATALOG
from fleetstream.catalog.engine import observe
from fleetstream.catalog.paths import compiled
from fleetstream.catalog.relations import RELATIONSHIPS_KEY, resolve

ACCOUNT, REGION = "123456789012", "eu-west-1"
EC2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}:"
DECLARED = [(e, r) for e in CATALOG.values() for r in e.relations]


def test_some_relations_are_declared() -> None:
    assert {e.type_name for e, _ in DECLARED} >= {
        "ec2.instance",
        "ec2.network_interface",
        "ec2.subnet",
        "ec2.security_group",
        "ec2.route_table",
        "ec2.internet_gateway",
    }


@pytest.mark.parametrize(("entry", "relation"), DECLARED, ids=lambda x: getattr(x, "path", x))
def test_each_relation_names_a_catalog_type_and_compiles(entry: object, relation: object) -> None:
    from fleetstream.catalog.entry import Relation

    assert isinstance(relation, Relation)
    assert relation.target_type in CATALOG
    compiled(relation.path)


def test_no_edge_is_declared_from_both_sides() -> None:
    # Reverse edges are derived: a pair of types relates in one direction only.
    pairs = {(e.type_name, r.target_type) for e, r in DECLARED}
    assert not {(a, b) for a, b in pairs if (b, a) in pairs}


INSTANCE: dict[str, object] = {
    "InstanceId": "i-1",
    "SubnetId": "subnet-1",
    "VpcId": "vpc-1",
    "SecurityGroups": [{"GroupId": "sg-b"}, {"GroupId": "sg-a"}, {"GroupId": "sg-b"}],
    "BlockDeviceMappings": [{"Ebs": {"VolumeId": "vol-1"}}, {"DeviceName": "/dev/sdz"}],
    "NetworkInterfaces": [{"NetworkInterfaceId": "eni-1"}],
}


def test_instance_edges_resolve_to_sorted_deduplicated_arns() -> None:
    edges = resolve(
        CATALOG["ec2.instance"], INSTANCE, partition="aws", region=REGION, account_id=ACCOUNT
    )
    assert edges == {
        "contains": [
            {"target_type": "ec2.network_interface", "target_arn": EC2 + "network-interface/eni-1"}
        ],
        "is_associated_with": [
            {"target_type": "ec2.security_group", "target_arn": EC2 + "security-group/sg-a"},
            {"target_type": "ec2.security_group", "target_arn": EC2 + "security-group/sg-b"},
        ],
        "is_attached_to": [{"target_type": "ec2.volume", "target_arn": EC2 + "volume/vol-1"}],
        "is_contained_in": [
            {"target_type": "ec2.subnet", "target_arn": EC2 + "subnet/subnet-1"},
            {"target_type": "ec2.vpc", "target_arn": EC2 + "vpc/vpc-1"},
        ],
    }


def test_route_table_edges_keep_only_igw_routes_and_explicit_associations() -> None:
    table = {
        "RouteTableId": "rtb-1",
        "VpcId": "vpc-1",
        "Associations": [{"Main": True}, {"SubnetId": "subnet-2", "Main": False}],
        "Routes": [
            {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"},
            {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1"},
            {"DestinationCidrBlock": "10.9.0.0/16", "NatGatewayId": "nat-1"},
        ],
    }
    edges = resolve(
        CATALOG["ec2.route_table"], table, partition="aws", region=REGION, account_id=ACCOUNT
    )
    assert edges["is_associated_with"] == [
        {"target_type": "ec2.internet_gateway", "target_arn": EC2 + "internet-gateway/igw-1"},
        {"target_type": "ec2.nat_gateway", "target_arn": EC2 + "natgateway/nat-1"},
        {"target_type": "ec2.subnet", "target_arn": EC2 + "subnet/subnet-2"},
    ]
    assert edges["is_contained_in"] == [{"target_type": "ec2.vpc", "target_arn": EC2 + "vpc/vpc-1"}]


def test_arn_values_pass_through_and_partition_comes_from_the_region() -> None:
    edges = resolve(
        CATALOG["ec2.subnet"],
        {"SubnetId": "subnet-1", "VpcId": "vpc-9"},
        partition="aws-cn",
        region="cn-north-1",
        account_id=ACCOUNT,
    )
    assert edges["is_contained_in"][0]["target_arn"] == (
        f"arn:aws-cn:ec2:cn-north-1:{ACCOUNT}:vpc/vpc-9"
    )


def _observed(item: dict[str, object]) -> dict[str, object]:
    observation = observe(
        CATALOG["ec2.instance"],
        item,
        account_id=ACCOUNT,
        account_name="a",
        region=REGION,
        sweep_id="s",
        observed_at=datetime(2026, 1, 1, tzinfo=UTC),
        redaction_key=b"k",
    )
    parsed: dict[str, object] = json.loads(observation.attributes_json)
    return parsed


def test_edges_are_stored_in_the_attributes_identically_whatever_the_listing_order() -> None:
    groups = INSTANCE["SecurityGroups"]
    assert isinstance(groups, list)
    reordered = {**INSTANCE, "SecurityGroups": list(reversed(groups))}
    first, second = _observed(dict(INSTANCE)), _observed(reordered)
    assert first[RELATIONSHIPS_KEY] == second[RELATIONSHIPS_KEY]
    assert "is_contained_in" in first[RELATIONSHIPS_KEY]  # type: ignore[operator]


def test_a_type_without_relations_gets_no_key() -> None:
    observation = observe(
        CATALOG["ec2.key_pair"],
        {"KeyPairId": "key-1", "KeyName": "k"},
        account_id=ACCOUNT,
        account_name="a",
        region=REGION,
        sweep_id="s",
        observed_at=datetime(2026, 1, 1, tzinfo=UTC),
        redaction_key=b"k",
    )
    assert RELATIONSHIPS_KEY not in json.loads(observation.attributes_json)


def _edges(type_name: str, item: Mapping[str, object]) -> set[tuple[str, str, str]]:
    found = resolve(CATALOG[type_name], item, partition="aws", region=REGION, account_id=ACCOUNT)
    return {(name, t["target_type"], t["target_arn"]) for name, ts in found.items() for t in ts}


ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
TG = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/tg/0123"
LB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/lb/0456"


def test_lambda_edges() -> None:
    item = {
        "FunctionName": "f",
        "Role": ROLE,
        "VpcConfig": {"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"], "VpcId": "vpc-1"},
    }
    assert _edges("lambda.function", item) == {
        ("is_associated_with", "iam.role", ROLE),
        ("is_contained_in", "ec2.subnet", EC2 + "subnet/subnet-1"),
        ("is_contained_in", "ec2.vpc", EC2 + "vpc/vpc-1"),
        ("is_associated_with", "ec2.security_group", EC2 + "security-group/sg-1"),
    }


def test_load_balancer_and_target_group_edges() -> None:
    balancer = {
        "LoadBalancerName": "lb",
        "VpcId": "vpc-1",
        "AvailabilityZones": [{"SubnetId": "subnet-2"}, {"SubnetId": "subnet-1"}],
        "SecurityGroups": ["sg-1"],
    }
    assert _edges("elbv2.load_balancer", balancer) == {
        ("is_contained_in", "ec2.subnet", EC2 + "subnet/subnet-1"),
        ("is_contained_in", "ec2.subnet", EC2 + "subnet/subnet-2"),
        ("is_contained_in", "ec2.vpc", EC2 + "vpc/vpc-1"),
        ("is_associated_with", "ec2.security_group", EC2 + "security-group/sg-1"),
    }
    group = {"TargetGroupName": "tg", "VpcId": "vpc-1", "LoadBalancerArns": [LB]}
    assert _edges("elbv2.target_group", group) == {
        ("is_associated_with", "elbv2.load_balancer", LB),
        ("is_contained_in", "ec2.vpc", EC2 + "vpc/vpc-1"),
    }


def test_rds_instance_edges() -> None:
    item = {
        "DBInstanceIdentifier": "db",
        "DBClusterIdentifier": "c1",
        "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-1", "Status": "active"}],
        "DBSubnetGroup": {"VpcId": "vpc-1", "Subnets": [{"SubnetIdentifier": "subnet-1"}]},
    }
    assert _edges("rds.db_instance", item) == {
        ("is_associated_with", "ec2.security_group", EC2 + "security-group/sg-1"),
        ("is_contained_in", "ec2.subnet", EC2 + "subnet/subnet-1"),
        ("is_contained_in", "ec2.vpc", EC2 + "vpc/vpc-1"),
        ("is_contained_in", "rds.db_cluster", f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:c1"),
    }


def test_ecs_service_edges_and_an_id_of_a_templateless_type_is_dropped() -> None:
    cluster = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/c"
    task = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/t:1"
    item = {
        "serviceArn": "s",
        "clusterArn": cluster,
        "taskDefinition": task,
        "loadBalancers": [{"targetGroupArn": TG}, {"loadBalancerName": "classic"}],
        "networkConfiguration": {
            "awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}
        },
        "roleArn": "not-an-arn",  # iam.role has no template: no edge, no failure
    }
    assert _edges("ecs.service", item) == {
        ("is_contained_in", "ecs.cluster", cluster),
        ("is_associated_with", "ecs.task_definition", task),
        ("is_associated_with", "elbv2.target_group", TG),
        ("is_contained_in", "ec2.subnet", EC2 + "subnet/subnet-1"),
        ("is_associated_with", "ec2.security_group", EC2 + "security-group/sg-1"),
    }


def test_no_relation_reads_a_sensitive_field() -> None:
    # Edges are resolved before redaction: a path under a sensitive field (or over one)
    # would leak it. Siblings under one key (pipeline.roleArn, pipeline.stages[]...) do not.
    def parts(path: str) -> list[str]:
        return [segment.split("[")[0] for segment in path.split(".")]

    for entry, relation in DECLARED:
        read = parts(relation.path)
        for field in map(parts, entry.sensitive_fields):
            shorter = min(len(read), len(field))
            assert read[:shorter] != field[:shorter], (entry.type_name, relation.path, field)
