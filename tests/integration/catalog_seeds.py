"""Resources of the catalog's newer types, seeded into moto for the per-family e2e tests.

Each seed_* takes a client factory for one account and region, and a name prefix; it
creates two resources of each type it covers (where AWS allows more than one) and returns
the ids the inventory must hold per type. Global types come back under their type too; the
caller puts them under region "global".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Clients = Callable[[str], Any]
Made = dict[str, list[str]]
PAIR = ("a", "b")


def _vpc(ec2: Any, cidr: str) -> tuple[str, list[str]]:
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = cidr.rsplit(".", 2)[0]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base}.{i}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for i, zone in ((1, "a"), (2, "b"))
        for zone in [f"{ec2.meta.region_name}{zone}"]
    ]
    return vpc, subnets


def seed_network(p: Clients, n: str) -> Made:
    """EC2 networking beyond VPCs and subnets, and Classic Load Balancers."""
    ec2, region = p("ec2"), p("ec2").meta.region_name
    vpc_a, subnets_a = _vpc(ec2, "10.41.0.0/16")
    vpc_b, subnets_b = _vpc(ec2, "10.42.0.0/16")
    made: Made = {}
    made["ec2.network_acl"] = [
        ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"] for vpc in (vpc_a, vpc_b)
    ]
    tgws = [
        ec2.create_transit_gateway(Description=f"{n}-{x}")["TransitGateway"]["TransitGatewayId"]
        for x in PAIR
    ]
    made["ec2.transit_gateway"] = tgws
    made["ec2.transit_gateway_attachment"] = [
        ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=tgw, VpcId=vpc, SubnetIds=subnets[:1]
        )["TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        for tgw, vpc, subnets in ((tgws[0], vpc_a, subnets_a), (tgws[1], vpc_b, subnets_b))
    ]
    made["ec2.vpc_endpoint"] = [
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{region}.s3")["VpcEndpoint"][
            "VpcEndpointId"
        ]
        for vpc in (vpc_a, vpc_b)
    ]
    made["ec2.vpc_peering_connection"] = [
        ec2.create_vpc_peering_connection(VpcId=vpc_a, PeerVpcId=vpc_b)["VpcPeeringConnection"][
            "VpcPeeringConnectionId"
        ],
        ec2.create_vpc_peering_connection(VpcId=vpc_b, PeerVpcId=vpc_a)["VpcPeeringConnection"][
            "VpcPeeringConnectionId"
        ],
    ]
    vgws = [ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"] for _ in PAIR]
    made["ec2.vpn_gateway"] = vgws
    cgws = [
        ec2.create_customer_gateway(Type="ipsec.1", PublicIp=f"203.0.113.{i}", BgpAsn=65000 + i)[
            "CustomerGateway"
        ]["CustomerGatewayId"]
        for i in (1, 2)
    ]
    made["ec2.customer_gateway"] = cgws
    made["ec2.vpn_connection"] = [
        ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=c, VpnGatewayId=v)[
            "VpnConnection"
        ]["VpnConnectionId"]
        for c, v in zip(cgws, vgws, strict=True)
    ]
    made["ec2.flow_log"] = [
        ec2.create_flow_logs(
            ResourceIds=[vpc],
            ResourceType="VPC",
            TrafficType="ALL",
            LogGroupName=f"/fs/{n}/flows-{vpc}",
            DeliverLogsPermissionArn=f"arn:aws:iam::{_account(p)}:role/flow-logs",
        )["FlowLogIds"][0]
        for vpc in (vpc_a, vpc_b)
    ]
    made["ec2.managed_prefix_list"] = [
        ec2.create_managed_prefix_list(
            PrefixListName=f"{n}-{x}", MaxEntries=5, AddressFamily="IPv4"
        )["PrefixList"]["PrefixListId"]
        for x in PAIR
    ]
    elb = p("elb")
    for x in PAIR:
        elb.create_load_balancer(
            LoadBalancerName=f"{n}-{x}"[:32],
            Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
            Subnets=subnets_a,
            Tags=[{"Key": "team", "Value": "data"}],
        )
    made["elb.load_balancer"] = [f"{n}-{x}"[:32] for x in PAIR]
    return made


def _account(p: Clients) -> str:
    return str(p("sts").get_caller_identity()["Account"])


def seed_identity(p: Clients, n: str) -> Made:
    """IAM groups, OIDC providers and instance profiles (global); KMS aliases and Cognito
    pools (regional). Not SAML providers or server certificates: moto lacks their tag calls
    (ListSAMLProviderTags, ListServerCertificateTags)."""
    iam, made = p("iam"), Made()
    made["iam.group"] = [iam.create_group(GroupName=f"{n}-{x}")["Group"]["GroupName"] for x in PAIR]
    made["iam.oidc_provider"] = [
        iam.create_open_id_connect_provider(
            Url=f"https://{n}-{x}.example.com", ThumbprintList=["a" * 40], ClientIDList=["sts"]
        )["OpenIDConnectProviderArn"]
        for x in PAIR
    ]
    made["iam.instance_profile"] = [
        iam.create_instance_profile(InstanceProfileName=f"{n}-{x}")["InstanceProfile"][
            "InstanceProfileName"
        ]
        for x in PAIR
    ]
    kms = p("kms")
    key = kms.create_key(Description=n)["KeyMetadata"]["KeyId"]
    for x in PAIR:
        kms.create_alias(AliasName=f"alias/{n}-{x}", TargetKeyId=key)
    made["kms.alias"] = [f"alias/{n}-{x}" for x in PAIR]
    made["cognito-identity.identity_pool"] = [
        p("cognito-identity").create_identity_pool(
            IdentityPoolName=f"{n}_{x}".replace("-", "_"),
            AllowUnauthenticatedIdentities=False,
            IdentityPoolTags={"team": "data"},
        )["IdentityPoolId"]
        for x in PAIR
    ]
    made["cognito-idp.user_pool"] = [
        p("cognito-idp").create_user_pool(PoolName=f"{n}-{x}", UserPoolTags={"team": "data"})[
            "UserPool"
        ]["Id"]
        for x in PAIR
    ]
    return made


def seed_apis(p: Clients, n: str) -> Made:
    """API Gateway REST APIs with a stage each, HTTP APIs with a stage each."""
    made: Made = {"apigateway.rest_api": [], "apigateway.stage": []}
    v1 = p("apigateway")
    for x in PAIR:
        api = v1.create_rest_api(name=f"{n}-{x}", tags={"team": "data"})["id"]
        root = v1.get_resources(restApiId=api)["items"][0]["id"]
        v1.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
        v1.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
        v1.create_deployment(restApiId=api, stageName="prod")
        made["apigateway.rest_api"].append(api)
        made["apigateway.stage"].append(f"{api}/stages/prod")
    made |= {"apigatewayv2.api": [], "apigatewayv2.stage": []}
    v2 = p("apigatewayv2")
    for x in PAIR:
        api = v2.create_api(Name=f"{n}-{x}", ProtocolType="HTTP", Tags={"team": "data"})["ApiId"]
        v2.create_stage(ApiId=api, StageName="live")
        made["apigatewayv2.api"].append(api)
        made["apigatewayv2.stage"].append(f"{api}/stages/live")
    return made


def seed_data(p: Clients, n: str) -> Made:
    """RDS subnet groups and event subscriptions, Redshift, OpenSearch, Glue, SageMaker."""
    ec2, made = p("ec2"), Made()
    _vpc_id, subnets = _vpc(ec2, "10.43.0.0/16")
    rds = p("rds")
    made["rds.db_subnet_group"] = [
        rds.create_db_subnet_group(
            DBSubnetGroupName=f"{n}-{x}",
            DBSubnetGroupDescription=n,
            SubnetIds=subnets,
            Tags=[{"Key": "team", "Value": "data"}],
        )["DBSubnetGroup"]["DBSubnetGroupName"]
        for x in PAIR
    ]
    topic = p("sns").create_topic(Name=f"{n}-rds-events")["TopicArn"]
    made["rds.event_subscription"] = [
        rds.create_event_subscription(SubscriptionName=f"{n}-{x}", SnsTopicArn=topic)[
            "EventSubscription"
        ]["CustSubscriptionId"]
        for x in PAIR
    ]
    redshift = p("redshift")
    made["redshift.cluster_subnet_group"] = [
        redshift.create_cluster_subnet_group(
            ClusterSubnetGroupName=f"{n}-{x}", Description=n, SubnetIds=subnets
        )["ClusterSubnetGroup"]["ClusterSubnetGroupName"]
        for x in PAIR
    ]
    made["redshift.cluster"] = [
        redshift.create_cluster(
            ClusterIdentifier=f"{n}-{x}",
            NodeType="dc2.large",
            MasterUsername="fleet",
            MasterUserPassword="Not-the-secret-1",
            ClusterType="single-node",
            ClusterSubnetGroupName=made["redshift.cluster_subnet_group"][0],
            Tags=[{"Key": "team", "Value": "data"}],
        )["Cluster"]["ClusterIdentifier"]
        for x in PAIR
    ]
    made["redshift.cluster_snapshot"] = [
        redshift.create_cluster_snapshot(
            SnapshotIdentifier=f"{cluster}-snap", ClusterIdentifier=cluster
        )["Snapshot"]["SnapshotIdentifier"]
        for cluster in made["redshift.cluster"]
    ]
    made["opensearch.domain"] = [
        p("opensearch").create_domain(
            DomainName=f"{n}-{x}"[:28], TagList=[{"Key": "team", "Value": "data"}]
        )["DomainStatus"]["DomainName"]
        for x in PAIR
    ]
    role = f"arn:aws:iam::{_account(p)}:role/{n}-sagemaker"
    made["glue.job"] = [
        p("glue").create_job(
            Name=f"{n}-{x}",
            Role=role,
            Command={"Name": "glueetl", "ScriptLocation": f"s3://{n}/job.py"},
            DefaultArguments={"--db-password": "not-the-secret"},
        )["Name"]
        for x in PAIR
    ]
    sagemaker = p("sagemaker")
    container = {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/model:1"}
    for x in PAIR:
        sagemaker.create_model(
            ModelName=f"{n}-{x}", ExecutionRoleArn=role, PrimaryContainer=container
        )
    made["sagemaker.model"] = [f"{n}-{x}" for x in PAIR]
    for x, model in zip(PAIR, made["sagemaker.model"], strict=True):
        sagemaker.create_endpoint_config(
            EndpointConfigName=f"{n}-{x}",
            ProductionVariants=[
                {
                    "VariantName": "main",
                    "ModelName": model,
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.t2.medium",
                }
            ],
        )
    made["sagemaker.endpoint_config"] = [f"{n}-{x}" for x in PAIR]
    for x in PAIR:
        sagemaker.create_notebook_instance(
            NotebookInstanceName=f"{n}-{x}", InstanceType="ml.t2.medium", RoleArn=role
        )
    made["sagemaker.notebook_instance"] = [f"{n}-{x}" for x in PAIR]
    return made


def seed_operations(p: Clients, n: str) -> Made:
    """CloudTrail trails, CloudWatch alarms, the Config recorder, launch configurations."""
    made: Made = {}
    bucket = f"{n}-trail"
    region = p("s3").meta.region_name
    config = (
        {}
        if region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    p("s3").create_bucket(Bucket=bucket, **config)
    made["cloudtrail.trail"] = [
        p("cloudtrail").create_trail(
            Name=f"{n}-{x}", S3BucketName=bucket, TagsList=[{"Key": "team", "Value": "data"}]
        )["Name"]
        for x in PAIR
    ]
    cloudwatch = p("cloudwatch")
    for x in PAIR:
        cloudwatch.put_metric_alarm(
            AlarmName=f"{n}-{x}",
            MetricName="CPUUtilization",
            Namespace="AWS/EC2",
            Statistic="Average",
            Period=300,
            EvaluationPeriods=1,
            Threshold=80.0,
            ComparisonOperator="GreaterThanThreshold",
            Tags=[{"Key": "team", "Value": "data"}],
        )
    made["cloudwatch.alarm"] = [f"{n}-{x}" for x in PAIR]
    # One recorder per account and region is all AWS allows.
    p("config").put_configuration_recorder(
        ConfigurationRecorder={
            "name": n,
            "roleARN": f"arn:aws:iam::{_account(p)}:role/config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False},
        }
    )
    made["config.configuration_recorder"] = [n]
    autoscaling = p("autoscaling")
    for x in PAIR:
        autoscaling.create_launch_configuration(
            LaunchConfigurationName=f"{n}-{x}",
            ImageId="ami-12c6146b",
            InstanceType="t3.micro",
            UserData="#!/bin/sh\necho not-the-secret\n",
        )
    made["autoscaling.launch_configuration"] = [f"{n}-{x}" for x in PAIR]
    return made


SEEDS: dict[str, Callable[[Clients, str], Made]] = {
    "network": seed_network,
    "identity": seed_identity,
    "apis": seed_apis,
    "data": seed_data,
    "operations": seed_operations,
}


def defaults(p: Clients) -> Made:
    """What AWS (and moto) create on their own, listed after seeding: each VPC's default
    network ACL, and the automated Redshift snapshots (moto ignores SnapshotType=manual)."""
    acls = p("ec2").describe_network_acls(Filters=[{"Name": "default", "Values": ["true"]}])
    snapshots = p("redshift").describe_cluster_snapshots()["Snapshots"]
    return {
        "ec2.network_acl": [a["NetworkAclId"] for a in acls["NetworkAcls"]],
        "redshift.cluster_snapshot": [
            s["SnapshotIdentifier"] for s in snapshots if s.get("SnapshotType") == "automated"
        ],
    }
