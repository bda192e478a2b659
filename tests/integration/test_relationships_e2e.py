"""Relationships on the real stack: a seeded network estate, swept, exported, queried.

One VPC with an internet gateway; a public subnet (its own route table sends 0.0.0.0/0 to the
gateway) and a private one (the VPC's main table, local route only); a security group open to
0.0.0.0/0 and a closed one; an instance in each combination. The relationship rows must equal
what the seed created, an unchanged second sweep must emit no change, and the exposure
question must name exactly the public instances with an open group.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from devstack import StackEndpoints
from devstack.seed import SEED_AMI, EstateSpec, seed_estate
from fleetstream.apps.cli import _Context, main
from fleetstream.apps.oneshot import run_sweep
from fleetstream.base.config import Settings, load_settings
from fleetstream.inventory.sql import PUBLIC_EXPOSURE_QUESTION, connect, run
from fleetstream.serde.wire import (
    ChangeEvent,
    ChangeType,
    decode_change_event,
    decode_resource_state,
)
from tests.integration.helpers import member_client, read_topic, settings_for

pytestmark = pytest.mark.integration
REGION = "us-east-1"
TYPES = [
    "ec2.instance",
    "ec2.internet_gateway",
    "ec2.network_interface",
    "ec2.route_table",
    "ec2.security_group",
    "ec2.subnet",
    "ec2.volume",
    "ec2.vpc",
]
Edge = tuple[str, str, str, str]  # source_arn, relationship, target_arn, target_type


class Network:
    """What the seed created in one account and region, and the edges it implies."""

    def __init__(self, ec2: Any, account_id: str) -> None:
        self.ec2, self.prefix = ec2, f"arn:aws:ec2:{REGION}:{account_id}:"
        self.edges: set[Edge] = set()
        self.vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        self.igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=self.igw, VpcId=self.vpc)
        self.edge("internet-gateway", self.igw, "is_attached_to", "vpc", self.vpc)
        self.public = self.subnet("10.1.1.0/24")
        self.private = self.subnet("10.1.2.0/24")
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [self.vpc]}])
        self.main_table = tables["RouteTables"][0]["RouteTableId"]
        self.edge("route-table", self.main_table, "is_contained_in", "vpc", self.vpc)
        self.public_table = ec2.create_route_table(VpcId=self.vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(
            RouteTableId=self.public_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=self.igw
        )
        ec2.associate_route_table(RouteTableId=self.public_table, SubnetId=self.public)
        for relationship, kind, target in (
            ("is_contained_in", "vpc", self.vpc),
            ("is_associated_with", "subnet", self.public),
            ("is_associated_with", "internet-gateway", self.igw),
        ):
            self.edge("route-table", self.public_table, relationship, kind, target)
        self.default_group = ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [self.vpc]}]
        )["SecurityGroups"][0]["GroupId"]
        self.edge("security-group", self.default_group, "is_contained_in", "vpc", self.vpc)
        self.open = self.group("open", "0.0.0.0/0")
        self.closed = self.group("closed", "10.0.0.0/8")
        self.instances: dict[str, str] = {}

    def arn(self, kind: str, rid: str) -> str:
        return f"{self.prefix}{kind}/{rid}"

    def edge(self, kind: str, rid: str, relationship: str, target_kind: str, target: str) -> None:
        target_type = "ec2." + target_kind.replace("-", "_")
        self.edges.add(
            (self.arn(kind, rid), relationship, self.arn(target_kind, target), target_type)
        )

    def subnet(self, cidr: str) -> str:
        subnet: str = self.ec2.create_subnet(VpcId=self.vpc, CidrBlock=cidr)["Subnet"]["SubnetId"]
        self.edge("subnet", subnet, "is_contained_in", "vpc", self.vpc)
        return subnet

    def group(self, name: str, cidr: str) -> str:
        group: str = self.ec2.create_security_group(
            GroupName=name, Description=name, VpcId=self.vpc
        )["GroupId"]
        self.ec2.authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": cidr}]}
            ],
        )
        self.edge("security-group", group, "is_contained_in", "vpc", self.vpc)
        return group

    def instance(self, name: str, subnet: str, groups: list[str]) -> None:
        made = self.ec2.run_instances(
            ImageId=SEED_AMI,
            MinCount=1,
            MaxCount=1,
            SubnetId=subnet,
            SecurityGroupIds=groups,
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}
            ],
        )["Instances"][0]
        iid = made["InstanceId"]
        self.instances[name] = iid
        self.edge("instance", iid, "is_contained_in", "subnet", subnet)
        self.edge("instance", iid, "is_contained_in", "vpc", self.vpc)
        for group in groups:
            self.edge("instance", iid, "is_associated_with", "security-group", group)
        described = self.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]
        for mapping in described["Instances"][0]["BlockDeviceMappings"]:
            self.edge("instance", iid, "is_attached_to", "volume", mapping["Ebs"]["VolumeId"])
        for eni in described["Instances"][0]["NetworkInterfaces"]:
            eid = eni["NetworkInterfaceId"]
            self.edge("instance", iid, "contains", "network-interface", eid)
            self.edge("network-interface", eid, "is_contained_in", "subnet", subnet)
            self.edge("network-interface", eid, "is_contained_in", "vpc", self.vpc)
            for group in groups:
                self.edge("network-interface", eid, "is_associated_with", "security-group", group)

    def sources(self) -> set[str]:
        return {source for source, *_ in self.edges}


def _sweep(settings: Settings, config: Path, log_dir: Path) -> None:
    result = run_sweep(
        settings, config, describers=1, sinks=1, timeout_s=300, log_dir=log_dir, echo=print
    )
    assert result.progress.finished, f"sweep did not finish: {result.progress}"
    assert not result.progress.failed, result.progress.failed


def _changes(settings: Settings) -> list[ChangeEvent]:
    return [
        decode_change_event(m.value())
        for m in read_topic(settings, settings.kafka.topic("changes"))
    ]


def _state_edges(settings: Settings, arn: str) -> object:
    """The relationships of the latest state-topic value for arn."""
    latest = [
        m for m in read_topic(settings, settings.kafka.topic("state")) if m.key() == arn.encode()
    ]
    attributes = json.loads(decode_resource_state(latest[-1].value()).observation.attributes_json)
    return attributes["relationships"]


def test_relationships_are_exact_stable_and_answer_the_exposure_question(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    aws = local_stack.aws_endpoint
    assert aws
    estate = seed_estate(
        aws,
        EstateSpec(member_accounts=1, regions=(REGION,), instances_per_region=0, paged_region=None),
    )
    account = estate.accounts[0].account_id
    net = Network(member_client(aws, account, "ec2", REGION), account)
    net.instance("public-open", net.public, [net.open])
    net.instance("public-closed", net.public, [net.closed])
    net.instance("public-both", net.public, [net.closed, net.open])
    net.instance("private-open", net.private, [net.open])
    net.instance("private-closed", net.private, [net.closed])
    config = log_dir.parent / "relationships.yaml"
    config.write_text(json.dumps({"resource_types": TYPES}))
    settings_for(monkeypatch, estate)
    settings = load_settings(config)

    _sweep(settings, config, log_dir / "sweep1")
    first = _changes(settings)
    _sweep(settings, config, log_dir / "sweep2")
    assert len(_changes(settings)) == len(first)  # unchanged estate: no change from any edge

    snapshot = log_dir.parent / "snapshot"
    exported = CliRunner().invoke(
        main.commands["export"], ["--to", str(snapshot)], obj=_Context(None)
    )
    assert exported.exit_code == 0, exported.output
    db, _ = connect(snapshot)
    rows = run(
        db, "SELECT source_arn, relationship, target_arn, target_type FROM relationships"
    ).rows
    mine = {row for row in rows if row[0] in net.sources()}
    assert mine == net.edges
    # Every edge of the estate points at a resource the inventory holds.
    dangling = run(
        db,
        "SELECT source_arn, target_arn FROM relationships "
        "WHERE target_arn NOT IN (SELECT arn FROM resources)",
    ).rows
    assert not [d for d in dangling if d[0] in net.sources()], dangling

    answer = run(db, PUBLIC_EXPOSURE_QUESTION).rows
    assert sorted(row[2] for row in answer) == sorted(
        net.instances[name] for name in ("public-open", "public-both")
    )

    # The state topic carries the edges with the item.
    public_open = net.arn("instance", net.instances["public-open"])
    assert _state_edges(settings, public_open) == {
        name: [
            {"target_arn": t, "target_type": k}
            for s, n, t, k in sorted(net.edges, key=lambda e: (e[3], e[2]))
            if s == public_open and n == name
        ]
        for name in ("contains", "is_associated_with", "is_attached_to", "is_contained_in")
    }

    # An edge change is a MODIFIED change of the source with a relationships.<name> path.
    moved = net.instances["private-closed"]
    net.ec2.modify_instance_attribute(InstanceId=moved, Groups=[net.open])
    _sweep(settings, config, log_dir / "sweep3")
    # Partitions interleave differently on each read: select by ARN, order by observation.
    of_moved = sorted(
        (c for c in _changes(settings) if c.arn == net.arn("instance", moved)),
        key=lambda c: c.observed_at,
    )
    assert [c.change_type for c in of_moved] == [ChangeType.CREATED, ChangeType.MODIFIED]
    paths = of_moved[1].changed_paths
    assert any(p.startswith("relationships.is_associated_with") for p in paths), paths


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def test_load_balancer_rds_and_lambda_edges_are_exact(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    aws = local_stack.aws_endpoint
    assert aws
    estate = seed_estate(
        aws,
        EstateSpec(member_accounts=1, regions=(REGION,), instances_per_region=0, paged_region=None),
    )
    account = estate.accounts[0].account_id

    def client(service: str) -> Any:
        return member_client(aws, account, service, REGION)

    ec2 = client("ec2")
    ec2_arn = f"arn:aws:ec2:{REGION}:{account}:"
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.2.{n}.0/24", AvailabilityZone=f"{REGION}{az}")[
            "Subnet"
        ]["SubnetId"]
        for n, az in ((1, "a"), (2, "b"))
    ]
    group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    elbv2 = client("elbv2")
    lb = elbv2.create_load_balancer(Name="rel-lb", Subnets=subnets, SecurityGroups=[group])[
        "LoadBalancers"
    ][0]["LoadBalancerArn"]
    tg = elbv2.create_target_group(Name="rel-tg", Protocol="HTTP", Port=80, VpcId=vpc)[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    rds = client("rds")
    rds.create_db_subnet_group(
        DBSubnetGroupName="rel-subnets", DBSubnetGroupDescription="rel", SubnetIds=subnets
    )
    db = rds.create_db_instance(
        DBInstanceIdentifier="rel-db",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="fleet",
        MasterUserPassword="not-the-secret",
        DBSubnetGroupName="rel-subnets",
        VpcSecurityGroupIds=[group],
    )["DBInstance"]["DBInstanceArn"]
    role = f"arn:aws:iam::{account}:role/{EstateSpec().member_role_name}"
    function = client("lambda").create_function(
        FunctionName="rel-fn",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
    )["FunctionArn"]
    sg_arn, vpc_arn = f"{ec2_arn}security-group/{group}", f"{ec2_arn}vpc/{vpc}"
    subnet_arns = [f"{ec2_arn}subnet/{s}" for s in subnets]
    expected = {
        *((lb, "is_contained_in", s, "ec2.subnet") for s in subnet_arns),
        (lb, "is_contained_in", vpc_arn, "ec2.vpc"),
        (lb, "is_associated_with", sg_arn, "ec2.security_group"),
        (tg, "is_associated_with", lb, "elbv2.load_balancer"),
        (tg, "is_contained_in", vpc_arn, "ec2.vpc"),
        (db, "is_associated_with", sg_arn, "ec2.security_group"),
        *((db, "is_contained_in", s, "ec2.subnet") for s in subnet_arns),
        (db, "is_contained_in", vpc_arn, "ec2.vpc"),
        (function, "is_associated_with", role, "iam.role"),
    }
    types = [
        "elbv2.load_balancer",
        "elbv2.target_group",
        "rds.db_instance",
        "lambda.function",
        "ec2.subnet",
        "ec2.vpc",
        "ec2.security_group",
        "iam.role",
    ]
    config = log_dir.parent / "relationships-families.yaml"
    config.write_text(json.dumps({"resource_types": types}))
    settings_for(monkeypatch, estate)
    settings = load_settings(config)
    _sweep(settings, config, log_dir / "sweep1")
    first = len(_changes(settings))
    _sweep(settings, config, log_dir / "sweep2")
    assert len(_changes(settings)) == first

    snapshot = log_dir.parent / "snapshot-families"
    exported = CliRunner().invoke(
        main.commands["export"], ["--to", str(snapshot)], obj=_Context(None)
    )
    assert exported.exit_code == 0, exported.output
    db_, _ = connect(snapshot)
    rows = run(
        db_,
        "SELECT source_arn, relationship, target_arn, target_type FROM relationships "
        "WHERE source_type NOT LIKE 'ec2.%'",
    ).rows
    assert set(rows) == expected
    dangling = run(
        db_,
        "SELECT source_arn, target_arn FROM relationships "
        "WHERE target_arn NOT IN (SELECT arn FROM resources)",
    ).rows
    assert not dangling
