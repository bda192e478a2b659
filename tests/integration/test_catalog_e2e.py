"""The catalog end to end: many resource types in moto, swept through Kafka into DynamoDB."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import uuid
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from devstack import StackEndpoints
from devstack.seed import Estate, _Clients
from fleetstream.base.config import Settings
from fleetstream.base.models import GLOBAL_REGION, Observation
from fleetstream.serde.wire import decode_resource_event
from tests.integration.catalog_e2e_support import Fact, Place, configure, estate_of, facts, sweep
from tests.integration.catalog_seeds import EMR_CLUSTER
from tests.integration.helpers import read_topic

pytestmark = pytest.mark.integration
REGIONS = ("us-east-1", "eu-west-1")
SECRET_TYPES = ("lambda.function", "ecs.task_definition", "ssm.parameter", "secretsmanager.secret")
# Types whose configuration holds a secret in members the describe calls return as well;
# planted only for the secrets test (the every-type test sweeps its own seeds of them).
CONFIG_SECRET_TYPES = ("ec2.vpn_connection", "emr.cluster", "glue.job", "glue.connection")

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Service": "ecs.amazonaws.com"},
        }
    ],
}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
}
STATE_MACHINE = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
STACK = {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
GLOBAL_TYPES = (
    "s3.bucket",
    "iam.role",
    "iam.user",
    "iam.policy",
    "route53.hosted_zone",
    "cloudfront.distribution",
)


def distribution(name: str) -> dict[str, Any]:
    """The smallest DistributionConfig moto accepts."""
    origin = {
        "Id": "o",
        "DomainName": f"{name}.s3.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    return {
        "CallerReference": name,
        "Comment": name,
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all"},
    }


def lambda_zip() -> bytes:
    """A minimal deployment package: moto stores it, nothing runs it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def plant_secrets(p: Place) -> dict[str, list[str]]:
    """Resources whose configuration holds p.secret where a describe could see it."""
    n = p.name
    p("lambda").create_function(
        FunctionName=n,
        Runtime="python3.12",
        Role=p.role_arn,
        Handler="handler.handler",
        Code={"ZipFile": lambda_zip()},
        Environment={"Variables": {"DB_PASSWORD": p.secret}},
        Tags={"team": "data"},
    )
    container = {
        "name": "app",
        "image": "nginx",
        "memory": 128,
        "environment": [{"name": "API_TOKEN", "value": p.secret}],
    }
    task = p("ecs").register_task_definition(family=n, containerDefinitions=[container])
    p("ssm").put_parameter(Name=f"/fs/{n}", Value=p.secret, Type="SecureString")
    p("secretsmanager").create_secret(Name=n, SecretString=p.secret)
    return {
        "lambda.function": [n],
        "ecs.task_definition": [task["taskDefinition"]["taskDefinitionArn"]],
        "ssm.parameter": [f"/fs/{n}"],
        "secretsmanager.secret": [n],
    }


def plant_config_secrets(p: Place) -> dict[str, list[str]]:
    """VPN tunnel keys, EMR Kerberos and Hive passwords, Glue job and connection secrets."""
    n, ec2 = p.name, p("ec2")
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    cgw = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="203.0.113.9", BgpAsn=65009)
    tunnels = [{"PreSharedKey": f"{p.secret}_{i}"} for i in (1, 2)]
    vpn = ec2.create_vpn_connection(
        Type="ipsec.1",
        CustomerGatewayId=cgw["CustomerGateway"]["CustomerGatewayId"],
        VpnGatewayId=vgw,
        Options={"TunnelOptions": tunnels},
    )["VpnConnection"]["VpnConnectionId"]
    hive = {"javax.jdo.option.ConnectionPassword": p.secret}
    cluster = p("emr").run_job_flow(
        Name=n,
        **EMR_CLUSTER,
        Configurations=[
            {"Classification": "hive-site", "Properties": hive},
            {
                "Classification": "hadoop-env",
                "Configurations": [{"Classification": "export", "Properties": {"PW": p.secret}}],
            },
        ],
        KerberosAttributes={
            "Realm": "EC2.INTERNAL",
            "KdcAdminPassword": p.secret,
            "CrossRealmTrustPrincipalPassword": p.secret,
            "ADDomainJoinUser": "joiner",
            "ADDomainJoinPassword": p.secret,
        },
    )["JobFlowId"]
    glue = p("glue")
    glue.create_job(
        Name=n,
        Role=p.role_arn,
        Command={"Name": "glueetl", "ScriptLocation": f"s3://{n}/job.py"},
        DefaultArguments={"--db-password": p.secret},
        SourceControlDetails={"Provider": "GITHUB", "Repository": n, "AuthToken": p.secret},
    )
    glue.create_connection(
        ConnectionInput={
            "Name": n,
            "ConnectionType": "JDBC",
            "ConnectionProperties": {
                "JDBC_CONNECTION_URL": f"jdbc:postgresql://db:5432/app?password={p.secret}",
                "USERNAME": "fleet",
                "PASSWORD": p.secret,
            },
        }
    )
    return {
        "ec2.vpn_connection": [vpn],
        "emr.cluster": [cluster],
        "glue.job": [n],
        "glue.connection": [n],
    }


def populate_ec2(p: Place, made: dict[str, list[str]]) -> None:
    """EC2: key pair, launch template, addresses, volume, snapshots, VPC, subnet, NAT, image."""
    n, ec2 = p.name, p("ec2")
    made["ec2.key_pair"] = [ec2.create_key_pair(KeyName=n)["KeyPairId"]]
    template = ec2.create_launch_template(
        LaunchTemplateName=n, LaunchTemplateData={"InstanceType": "t3.micro"}
    )["LaunchTemplate"]["LaunchTemplateId"]
    made["ec2.launch_template"] = [template]
    made["ec2.elastic_ip"] = [ec2.allocate_address(Domain="vpc")["AllocationId"]]
    volume = ec2.create_volume(AvailabilityZone=f"{p.region}a", Size=1)["VolumeId"]
    made["ec2.snapshot"] = [ec2.create_snapshot(VolumeId=volume)["SnapshotId"]]
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    made["ec2.vpc"] = [vpc]
    sg = ec2.create_security_group(GroupName=n, Description="fleetstream", VpcId=vpc)
    made["ec2.security_group"] = [sg["GroupId"]]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24")["Subnet"]["SubnetId"]
    made["ec2.subnet"] = [subnet]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    made["ec2.internet_gateway"] = [gateway]
    nat_ip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    made["ec2.elastic_ip"].append(nat_ip)
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=nat_ip)["NatGateway"]
    made["ec2.nat_gateway"] = [nat["NatGatewayId"]]
    made["ec2.volume"] = [volume]
    instance = ec2.describe_instances()["Reservations"][0]["Instances"][0]["InstanceId"]
    image = ec2.create_image(InstanceId=instance, Name=n)["ImageId"]
    made["ec2.image"] = [image]
    for mapping in ec2.describe_images(ImageIds=[image])["Images"][0]["BlockDeviceMappings"]:
        if "Ebs" in mapping and mapping["Ebs"].get("SnapshotId"):
            made["ec2.snapshot"].append(mapping["Ebs"]["SnapshotId"])


def populate_messaging(p: Place, made: dict[str, list[str]]) -> None:
    """Queues, topics, tables, keys, streams, state machines, rules, log groups, file systems."""
    n = p.name
    made["sqs.queue"] = [n]
    p("sqs").create_queue(QueueName=n, tags={"team": "data"})
    p("sns").create_topic(Name=n, Tags=[{"Key": "team", "Value": "data"}])
    made["sns.topic"] = [n]
    p("dynamodb").create_table(
        TableName=n,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    made["dynamodb.table"] = [n]
    made["kms.key"] = [p("kms").create_key(Description=n)["KeyMetadata"]["KeyId"]]


def populate_compute(p: Place, made: dict[str, list[str]]) -> None:
    """ECS, EKS, load balancers, databases, caches, MSK, Auto Scaling (in the new VPC's region)."""
    n, vpc, template = p.name, made["ec2.vpc"][0], made["ec2.launch_template"][0]
    subnets = [s["SubnetId"] for s in p("ec2").describe_subnets()["Subnets"] if s["DefaultForAz"]]
    ecs = p("ecs")
    ecs.create_cluster(clusterName=n, tags=[{"key": "team", "value": "data"}])
    made["ecs.cluster"] = [n]
    service = ecs.create_service(
        cluster=n, serviceName=n, taskDefinition=made["ecs.task_definition"][0], desiredCount=0
    )
    made["ecs.service"] = [service["service"]["serviceArn"]]
    p("eks").create_cluster(name=n, roleArn=p.role_arn, resourcesVpcConfig={"subnetIds": subnets})
    made["eks.cluster"] = [n]
    group = p("eks").create_nodegroup(
        clusterName=n, nodegroupName=n, subnets=subnets, nodeRole=p.role_arn
    )
    made["eks.nodegroup"] = [group["nodegroup"]["nodegroupArn"]]
    elbv2 = p("elbv2")
    elbv2.create_load_balancer(Name=n[:32], Subnets=subnets[:2])
    made["elbv2.load_balancer"] = [n[:32]]
    elbv2.create_target_group(Name=n[:32], Protocol="HTTP", Port=80, VpcId=vpc)
    made["elbv2.target_group"] = [n[:32]]
    p("rds").create_db_instance(
        DBInstanceIdentifier=n,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="fleet",
        MasterUserPassword="not-the-secret",
    )
    made["rds.db_instance"] = [n]
    p("rds").create_db_snapshot(DBSnapshotIdentifier=f"{n}-snap", DBInstanceIdentifier=n)
    made["rds.db_snapshot"] = [f"{n}-snap"]
    # RDS (and moto) also take an automated snapshot of every new instance and cluster.
    made["rds.db_snapshot"] += [
        s["DBSnapshotIdentifier"]
        for s in p("rds").describe_db_snapshots(SnapshotType="automated")["DBSnapshots"]
    ]
    p("rds").create_db_cluster(
        DBClusterIdentifier=f"{n}-cl",
        Engine="aurora-postgresql",
        MasterUsername="fleet",
        MasterUserPassword="not-the-secret",
    )
    made["rds.db_cluster"] = [f"{n}-cl"]
    p("rds").create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier=f"{n}-clsnap", DBClusterIdentifier=f"{n}-cl"
    )
    made["rds.db_cluster_snapshot"] = [f"{n}-clsnap"] + [
        s["DBClusterSnapshotIdentifier"]
        for s in p("rds").describe_db_cluster_snapshots(SnapshotType="automated")[
            "DBClusterSnapshots"
        ]
    ]
    p("elasticache").create_cache_cluster(
        CacheClusterId=n[:40], Engine="redis", CacheNodeType="cache.t3.micro", NumCacheNodes=1
    )
    made["elasticache.cache_cluster"] = [n[:40]]
    certificate = p("acm").request_certificate(DomainName=f"{n}.example.com")
    made["acm.certificate"] = [certificate["CertificateArn"]]
    p("kafka").create_cluster_v2(
        ClusterName=n, Serverless={"VpcConfigs": [{"SubnetIds": subnets}]}, Tags={"team": "data"}
    )
    made["kafka.cluster"] = [n]

    p("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName=n,
        LaunchTemplate={"LaunchTemplateId": template},
        MinSize=0,
        MaxSize=1,
        DesiredCapacity=0,
        AvailabilityZones=[f"{p.region}a"],
    )
    made["autoscaling.group"] = [n]


def populate_rest(p: Place, made: dict[str, list[str]]) -> None:
    """Stacks, repositories, streams, state machines, rules, log groups, file systems."""
    n = p.name
    p("cloudformation").create_stack(StackName=n, TemplateBody=json.dumps(STACK))
    made["cloudformation.stack"] = [n]
    p("ecr").create_repository(repositoryName=n)
    made["ecr.repository"] = [n]
    p("kinesis").create_stream(StreamName=n, ShardCount=1)
    made["kinesis.stream"] = [n]
    p("stepfunctions").create_state_machine(
        name=n, definition=json.dumps(STATE_MACHINE), roleArn=p.role_arn
    )
    made["stepfunctions.state_machine"] = [n]
    p("events").put_rule(Name=n, ScheduleExpression="rate(5 minutes)")
    made["events.rule"] = [n]
    p("logs").create_log_group(logGroupName=f"/fs/{n}", tags={"team": "data"})
    made["logs.log_group"] = [f"/fs/{n}"]
    made["efs.file_system"] = [p("efs").create_file_system(CreationToken=n)["FileSystemId"]]


def populate_global(p: Place, made: dict[str, list[str]]) -> None:
    """One of each global type per place, all listed under the account's "global" shard."""
    n = p.name
    bucket = {} if p.region == "us-east-1" else {"LocationConstraint": p.region}
    p("s3").create_bucket(Bucket=n, **({"CreateBucketConfiguration": bucket} if bucket else {}))
    made["s3.bucket"] = [n]
    iam = p("iam")
    iam.create_role(RoleName=n, AssumeRolePolicyDocument=json.dumps(TRUST))
    made["iam.role"] = [n]
    iam.create_user(UserName=n, Tags=[{"Key": "team", "Value": "data"}])
    made["iam.user"] = [n]
    iam.create_policy(PolicyName=n, PolicyDocument=json.dumps(POLICY))
    made["iam.policy"] = [n]
    if p.region == "us-east-1":
        made["cloudfront.distribution"] = [
            p("cloudfront").create_distribution(DistributionConfig=distribution(n))["Distribution"][
                "Id"
            ]
        ]
    zone = p("route53").create_hosted_zone(Name=f"{n}.example.com", CallerReference=n)
    made["route53.hosted_zone"] = [zone["HostedZone"]["Id"].rsplit("/", 1)[-1]]


def populate(p: Place) -> dict[str, list[str]]:
    """Create resources of many types in one place; return their ids per type."""
    made = defaultdict[str, list[str]](list, plant_secrets(p))
    for step in (
        populate_ec2,
        populate_messaging,
        populate_compute,
        populate_rest,
        populate_global,
    ):
        step(p, made)
    return dict(made)


def baseline(ec2: Any) -> dict[str, list[str]]:
    """EC2 resources a region has before populate: defaults, seeded instances' volumes."""
    return {
        "ec2.vpc": [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]],
        "ec2.subnet": [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]],
        "ec2.security_group": [
            g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]
        ],
        "ec2.route_table": [t["RouteTableId"] for t in ec2.describe_route_tables()["RouteTables"]],
        "ec2.volume": [v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]],
        # moto's bundled AMIs come with snapshots it attributes to every account.
        "ec2.snapshot": [
            s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
        ],
    }


def build_truth(clients: _Clients, estate: Estate, secret: str) -> dict[str, set[Fact]]:
    """Populate every place of the estate; the facts each type's inventory must equal."""
    truth: dict[str, set[Fact]] = defaultdict(set)
    for instance in estate.instances:
        truth["ec2.instance"].add((instance.account_id, instance.region, instance.instance_id))
    for account in estate.accounts:
        # What the estate had before: the seeded role and each region's default VPC and SG.
        iam = clients.member(account.account_id, "iam", "us-east-1")
        for role in iam.list_roles()["Roles"]:
            truth["iam.role"].add((account.account_id, GLOBAL_REGION, role["RoleName"]))
        for region in estate.regions:
            ec2 = clients.member(account.account_id, "ec2", region)
            for type_name, ids in baseline(ec2).items():
                truth[type_name] |= {(account.account_id, region, i) for i in ids}
        for region in estate.regions:
            place = Place(clients, account.account_id, region, secret)
            made = populate(place)
            for type_name, ids in made.items():
                where = GLOBAL_REGION if type_name in GLOBAL_TYPES else region
                truth[type_name] |= {(account.account_id, where, i) for i in ids}
            # A new VPC comes with its own default security group and main route table.
            in_vpc = [{"Name": "vpc-id", "Values": made["ec2.vpc"]}]
            ec2 = place("ec2")
            for type_name, ids in (
                (
                    "ec2.security_group",
                    [
                        g["GroupId"]
                        for g in ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]
                    ],
                ),
                (
                    "ec2.route_table",
                    [
                        t["RouteTableId"]
                        for t in ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]
                    ],
                ),
            ):
                truth[type_name] |= {(account.account_id, region, i) for i in ids}
    return dict(truth)


def test_every_type_in_two_accounts_and_two_regions_matches_moto_exactly(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    assert local_stack.aws_endpoint
    estate = estate_of(local_stack, 2, REGIONS)
    truth = build_truth(_Clients(local_stack.aws_endpoint), estate, f"canary-{uuid.uuid4().hex}")
    types = sorted(truth)
    assert len(types) >= 20
    settings, config = configure(
        monkeypatch, estate, types, log_dir.parent, FLEETSTREAM_DESCRIBER__PAGE_SIZE="5"
    )

    items = sweep(settings, config, log_dir)

    found = defaultdict(set, facts(items))
    wrong = {
        t: {"missing": truth[t] - found[t], "extra": found[t] - truth[t]}
        for t in types
        if found[t] != truth[t]
    }
    assert not wrong, wrong
    assert set(found) == set(types)
    # Buckets are listed under "global"; their real region is an attribute.
    buckets = [i for i in items if i["resource_type"]["S"] == "s3.bucket"]
    for bucket in buckets:
        name, region = bucket["resource_id"]["S"], json.loads(bucket["attributes"]["S"])
        assert name.endswith(region["BucketRegion"]), (name, region["BucketRegion"])
        assert bucket["arn"]["S"] == f"arn:aws:s3:::{name}"
    # Tags arrive whichever way a service spells them.
    tagged = {i["resource_type"]["S"] for i in items if i.get("tags", {}).get("M", {}).get("team")}
    assert {"lambda.function", "ecs.cluster", "sqs.queue", "sns.topic", "iam.user"} <= tagged


def test_planted_secrets_reach_neither_dynamodb_nor_the_resources_topic(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    log_dir: Path,
) -> None:
    assert local_stack.aws_endpoint
    estate = estate_of(local_stack, 1, ("eu-west-1",))
    secret = f"canary-{uuid.uuid4().hex}"
    account = estate.accounts[0].account_id
    place = Place(_Clients(local_stack.aws_endpoint), account, "eu-west-1", secret)
    planted = plant_secrets(place) | plant_config_secrets(place)
    types = [*SECRET_TYPES, *CONFIG_SECRET_TYPES]
    assert set(planted) == set(types)
    settings, config = configure(monkeypatch, estate, types, log_dir.parent)

    items = sweep(settings, config, log_dir)

    assert {i["resource_type"]["S"] for i in items} == set(types)
    leaked = [i["resource_type"]["S"] for i in items if secret in json.dumps(i)]
    assert leaked == []
    assert not [i for i in items if "attributes_z" in i]  # small items: attributes inline
    messages = read_topic(settings, settings.kafka.topic("resources"))
    events = [decode_resource_event(m.value()) for m in messages]
    observations = [o for o in events if isinstance(o, Observation)]
    assert len(observations) == len(types)
    assert [
        e.resource_type
        for m, e in zip(messages, events, strict=True)
        if secret.encode() in m.value()
    ] == []
    assert all(secret not in o.attributes_json for o in observations)
    # Redacted, not dropped: the name stays and the value's fingerprint still shows changes.
    function = next(o for o in observations if o.resource_type == "lambda.function")
    # Keyed with the deployment's redaction key: not a plain (dictionary-recoverable) SHA-256.
    key = settings.describer.redaction_key
    assert key is not None and key.value is not None
    digest = hmac.new(
        key.value.get_secret_value().encode(), secret.encode(), hashlib.sha256
    ).hexdigest()[:16]
    variables = json.loads(function.attributes_json)["Environment"]["Variables"]
    assert variables == {"DB_PASSWORD": f"<redacted:hmac-sha256:{digest}>"}
