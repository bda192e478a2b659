"""Resources of the catalog's newer types, seeded into moto for the per-family e2e tests.

Each seed_* takes a client factory for one account and region, and a name prefix; it
creates two resources of each type it covers (where AWS allows more than one) and returns
the ids the inventory must hold per type. Global types come back under their type too; the
caller puts them under region "global".
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

Clients = Callable[[str], Any]
Made = dict[str, list[str]]
PAIR = ("a", "b")
# What run_job_flow needs besides a name for a cluster that stays listed (WAITING).
EMR_CLUSTER: dict[str, Any] = {
    "ReleaseLabel": "emr-6.15.0",
    "Instances": {
        "MasterInstanceType": "m5.xlarge",
        "InstanceCount": 1,
        "KeepJobFlowAliveWhenNoSteps": True,
    },
    "JobFlowRole": "EMR_EC2_DefaultRole",
    "ServiceRole": "EMR_DefaultRole",
}


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
    """IAM groups, access keys, OIDC providers, instance profiles and Shield protections
    (global); KMS aliases and Cognito pools (regional). Not SAML providers or server
    certificates: moto lacks their tag calls (ListSAMLProviderTags,
    ListServerCertificateTags)."""
    iam, made = p("iam"), Made()
    made["iam.group"] = [iam.create_group(GroupName=f"{n}-{x}")["Group"]["GroupName"] for x in PAIR]
    made["iam.oidc_provider"] = [
        iam.create_open_id_connect_provider(
            Url=f"https://{n}-{x}.example.com", ThumbprintList=["a" * 40], ClientIDList=["sts"]
        )["OpenIDConnectProviderArn"]
        for x in PAIR
    ]
    iam.create_user(UserName=f"{n}-keys")
    made["iam.access_key"] = [
        iam.create_access_key(UserName=f"{n}-keys")["AccessKey"]["AccessKeyId"] for _ in PAIR
    ]
    shield = p("shield")
    shield.create_subscription()
    address = p("ec2").allocate_address(Domain="vpc")["AllocationId"]
    region = p("ec2").meta.region_name
    made["shield.protection"] = [
        shield.create_protection(
            Name=f"{n}-{x}",
            ResourceArn=f"arn:aws:ec2:{region}:{_account(p)}:eip-allocation/{address}-{x}",
            Tags=[{"Key": "team", "Value": "data"}],
        )["ProtectionId"]
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
    """RDS subnet groups and event subscriptions, ElastiCache replication and subnet groups,
    Redshift, OpenSearch, Glue, SageMaker."""
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
    elasticache = p("elasticache")
    made["elasticache.subnet_group"] = [
        elasticache.create_cache_subnet_group(
            CacheSubnetGroupName=f"{n}-{x}",
            CacheSubnetGroupDescription=n,
            SubnetIds=subnets,
            Tags=[{"Key": "team", "Value": "data"}],
        )["CacheSubnetGroup"]["CacheSubnetGroupName"]
        for x in PAIR
    ]
    made["elasticache.replication_group"] = [
        elasticache.create_replication_group(
            ReplicationGroupId=f"{n}-{x}"[:40],
            ReplicationGroupDescription=n,
            Engine="redis",
            CacheNodeType="cache.t3.micro",
            NumCacheClusters=1,
            CacheSubnetGroupName=made["elasticache.subnet_group"][0],
        )["ReplicationGroup"]["ReplicationGroupId"]
        for x in PAIR
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


def seed_platform(p: Clients, n: str) -> Made:
    """AppSync, Backup, Batch, CodePipeline, DMS, Elastic Beanstalk applications, MQ, Service
    Catalog, Resolver rules, Glue databases, SSM documents, Route 53 health checks, VPC
    endpoint services and Spot Fleet requests. Not Elastic Beanstalk environments (moto
    leaves EnvironmentId empty) nor Transfer servers (moto lacks ListTagsForResource)."""
    made: Made = {}
    # Batch, CodePipeline and Spot Fleet insist on a role that exists and trusts them (moto
    # reads one service per statement).
    services = ("batch", "codepipeline", "spotfleet")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": f"{service}.amazonaws.com"},
            }
            for service in services
        ],
    }
    role = p("iam").create_role(
        RoleName=f"{n}-platform", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    made["appsync.graphql_api"] = [
        p("appsync").create_graphql_api(
            name=f"{n}-{x}", authenticationType="API_KEY", tags={"team": "data"}
        )["graphqlApi"]["apiId"]
        for x in PAIR
    ]
    backup = p("backup")
    made["backup.backup_vault"] = [
        backup.create_backup_vault(BackupVaultName=f"{n}-{x}", BackupVaultTags={"team": "data"})[
            "BackupVaultName"
        ]
        for x in PAIR
    ]
    made["backup.backup_plan"] = [
        backup.create_backup_plan(
            BackupPlan={
                "BackupPlanName": f"{n}-{x}",
                "Rules": [
                    {"RuleName": "daily", "TargetBackupVaultName": made["backup.backup_vault"][0]}
                ],
            },
            BackupPlanTags={"team": "data"},
        )["BackupPlanId"]
        for x in PAIR
    ]
    ec2 = p("ec2")
    _vpc_id, subnets = _vpc(ec2, "10.44.0.0/16")
    batch = p("batch")
    made["batch.compute_environment"] = [
        batch.create_compute_environment(
            computeEnvironmentName=f"{n}-{x}",
            type="UNMANAGED",
            state="ENABLED",
            serviceRole=role,
            tags={"team": "data"},
        )["computeEnvironmentName"]
        for x in PAIR
    ]
    made["batch.job_queue"] = [
        batch.create_job_queue(
            jobQueueName=f"{n}-{x}",
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
            tags={"team": "data"},
        )["jobQueueName"]
        for x, environment in zip(PAIR, made["batch.compute_environment"], strict=True)
    ]
    source: dict[str, Any] = {
        "name": "Source",
        "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
        "configuration": {"S3Bucket": n, "S3ObjectKey": "src.zip"},
        "outputArtifacts": [{"name": "src"}],
    }
    stage = {"name": "Source", "actions": [source]}
    build = {"name": "Build", "actions": [{**source, "name": "Copy"}]}
    made["codepipeline.pipeline"] = [
        p("codepipeline").create_pipeline(
            pipeline={
                "name": f"{n}-{x}",
                "roleArn": role,
                "artifactStore": {"type": "S3", "location": n},
                "stages": [stage, build],
            },
            tags=[{"key": "team", "value": "data"}],
        )["pipeline"]["name"]
        for x in PAIR
    ]
    made["dms.replication_instance"] = [
        p("dms").create_replication_instance(
            ReplicationInstanceIdentifier=f"{n}-{x}",
            ReplicationInstanceClass="dms.t3.micro",
            Tags=[{"Key": "team", "Value": "data"}],
        )["ReplicationInstance"]["ReplicationInstanceIdentifier"]
        for x in PAIR
    ]
    beanstalk = p("elasticbeanstalk")
    made["elasticbeanstalk.application"] = [
        beanstalk.create_application(ApplicationName=f"{n}-{x}")["Application"]["ApplicationName"]
        for x in PAIR
    ]
    made["mq.broker"] = [
        p("mq").create_broker(
            BrokerName=f"{n}-{x}",
            DeploymentMode="SINGLE_INSTANCE",
            EngineType="ACTIVEMQ",
            EngineVersion="5.17.6",
            HostInstanceType="mq.t3.micro",
            PubliclyAccessible=False,
            AutoMinorVersionUpgrade=True,
            Users=[{"Username": "fleet", "Password": "not-the-secret-1"}],
            Tags={"team": "data"},
        )["BrokerId"]
        for x in PAIR
    ]
    made["servicecatalog.portfolio"] = [
        p("servicecatalog").create_portfolio(
            DisplayName=f"{n}-{x}",
            ProviderName="fleetstream",
            Tags=[{"Key": "team", "Value": "data"}],
        )["PortfolioDetail"]["Id"]
        for x in PAIR
    ]
    resolver = p("route53resolver")
    made["route53resolver.resolver_rule"] = [
        resolver.create_resolver_rule(
            CreatorRequestId=f"{n}-{x}",
            Name=f"{n}-{x}",
            RuleType="SYSTEM",
            DomainName=f"{x}.{n}.example.com",
            Tags=[{"Key": "team", "Value": "data"}],
        )["ResolverRule"]["Id"]
        for x in PAIR
    ]
    glue = p("glue")
    for x in PAIR:
        glue.create_database(DatabaseInput={"Name": f"{n}_{x}".replace("-", "_")})
    made["glue.database"] = [f"{n}_{x}".replace("-", "_") for x in PAIR]
    ssm = p("ssm")
    document = {"schemaVersion": "2.2", "description": "x", "mainSteps": []}
    made["ssm.document"] = [
        ssm.create_document(
            Name=f"{n}-{x}",
            Content=json.dumps(document),
            DocumentType="Command",
            Tags=[{"Key": "team", "Value": "data"}],
        )["DocumentDescription"]["Name"]
        for x in PAIR
    ]
    made["route53.health_check"] = [
        p("route53").create_health_check(
            CallerReference=f"{n}-{x}",
            HealthCheckConfig={
                "Type": "HTTPS",
                "FullyQualifiedDomainName": f"{x}.{n}.example.com",
                "Port": 443,
            },
        )["HealthCheck"]["Id"]
        for x in PAIR
    ]
    elbv2 = p("elbv2")
    nlbs = [
        elbv2.create_load_balancer(Name=f"{n}-{x}"[:32], Subnets=subnets[:1], Type="network")[
            "LoadBalancers"
        ][0]["LoadBalancerArn"]
        for x in PAIR
    ]
    made["ec2.vpc_endpoint_service"] = [
        ec2.create_vpc_endpoint_service_configuration(NetworkLoadBalancerArns=[nlb])[
            "ServiceConfiguration"
        ]["ServiceId"]
        for nlb in nlbs
    ]
    made["ec2.spot_fleet_request"] = [
        ec2.request_spot_fleet(
            SpotFleetRequestConfig={
                "IamFleetRole": role,
                "TargetCapacity": 0,
                "AllocationStrategy": "lowestPrice",
                "LaunchSpecifications": [
                    {"ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "SubnetId": subnets[0]}
                ],
            }
        )["SpotFleetRequestId"]
        for _ in PAIR
    ]
    return made


def seed_workloads(p: Clients, n: str) -> Made:
    """Types that hang off workloads: listeners, scaling policies, access points, backups,
    event source mappings, layers, subscriptions, activities, Config rules, Glue
    connections, EMR clusters, GuardDuty, SES configuration sets, dedicated hosts, transit
    gateway route tables."""
    made: Made = {}
    ec2 = p("ec2")
    vpc, subnets = _vpc(ec2, "10.45.0.0/16")
    elbv2 = p("elbv2")
    made["elbv2.listener"] = []
    for x in PAIR:
        balancer = elbv2.create_load_balancer(Name=f"{n}-{x}"[:32], Subnets=subnets)[
            "LoadBalancers"
        ][0]["LoadBalancerArn"]
        action = {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}
        made["elbv2.listener"].append(
            elbv2.create_listener(
                LoadBalancerArn=balancer, Protocol="HTTP", Port=80, DefaultActions=[action]
            )["Listeners"][0]["ListenerArn"]
        )
    autoscaling = p("autoscaling")
    autoscaling.create_launch_configuration(
        LaunchConfigurationName=n, ImageId="ami-12c6146b", InstanceType="t3.micro"
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=n,
        LaunchConfigurationName=n,
        MinSize=0,
        MaxSize=1,
        VPCZoneIdentifier=subnets[0],
    )
    for x in PAIR:
        autoscaling.put_scaling_policy(
            AutoScalingGroupName=n,
            PolicyName=f"{n}-{x}",
            AdjustmentType="ChangeInCapacity",
            ScalingAdjustment=1,
        )
    # The policy's ARN holds a random id (moto does not return it from the put either).
    policies = autoscaling.describe_policies(AutoScalingGroupName=n)["ScalingPolicies"]
    made["autoscaling.scaling_policy"] = [policy["PolicyARN"] for policy in policies]
    efs = p("efs")
    file_system = efs.create_file_system(CreationToken=n)["FileSystemId"]
    made["efs.access_point"] = [
        efs.create_access_point(
            ClientToken=f"{n}-{x}", FileSystemId=file_system, Tags=[{"Key": "Name", "Value": x}]
        )["AccessPointId"]
        for x in PAIR
    ]
    dynamodb = p("dynamodb")
    dynamodb.create_table(
        TableName=n,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    made["dynamodb.backup"] = [
        dynamodb.create_backup(TableName=n, BackupName=f"{n}-{x}")["BackupDetails"]["BackupArn"]
        for x in PAIR
    ]
    queue = p("sqs").create_queue(QueueName=n)["QueueUrl"]
    queue_arn = p("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    role = p("iam").create_role(
        RoleName=f"{n}-workloads", AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )["Role"]["Arn"]
    lambda_ = p("lambda")
    lambda_.create_function(
        FunctionName=n,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
    )
    made["lambda.event_source_mapping"] = [
        lambda_.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=n)["UUID"]
        for _ in PAIR
    ]
    made["lambda.layer"] = [
        lambda_.publish_layer_version(LayerName=f"{n}-{x}", Content={"ZipFile": _zip()})[
            "LayerArn"
        ].rsplit(":", 1)[1]
        for x in PAIR
    ]
    sns = p("sns")
    topic = sns.create_topic(Name=n)["TopicArn"]
    made["sns.subscription"] = [
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"{queue_arn}-{x}")[
            "SubscriptionArn"
        ]
        for x in PAIR
    ]
    made["stepfunctions.activity"] = [
        p("stepfunctions")
        .create_activity(name=f"{n}-{x}", tags=[{"key": "team", "value": "data"}])["activityArn"]
        .rsplit(":", 1)[1]
        for x in PAIR
    ]
    config = p("config")
    for x in PAIR:
        config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": f"{n}-{x}",
                "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"},
            },
            Tags=[{"Key": "team", "Value": "data"}],
        )
    made["config.config_rule"] = [f"{n}-{x}" for x in PAIR]
    glue = p("glue")
    for x in PAIR:
        glue.create_connection(
            ConnectionInput={
                "Name": f"{n}-{x}",
                "ConnectionType": "JDBC",
                "ConnectionProperties": {
                    "JDBC_CONNECTION_URL": "jdbc:postgresql://db:5432/app",
                    "USERNAME": "fleet",
                    "PASSWORD": "not-the-secret",
                },
            }
        )
    made["glue.connection"] = [f"{n}-{x}" for x in PAIR]
    made["emr.cluster"] = [
        p("emr").run_job_flow(
            Name=f"{n}-{x}",
            **EMR_CLUSTER,
            Tags=[{"Key": "team", "Value": "data"}],
        )["JobFlowId"]
        for x in PAIR
    ]
    # One detector per account and region is all GuardDuty allows.
    made["guardduty.detector"] = [
        p("guardduty").create_detector(Enable=True, Tags={"team": "data"})["DetectorId"]
    ]
    ses = p("ses")
    for x in PAIR:
        ses.create_configuration_set(ConfigurationSet={"Name": f"{n}-{x}"})
    made["ses.configuration_set"] = [f"{n}-{x}" for x in PAIR]
    made |= _seed_hosts(p, n, vpc, subnets)
    return made


def _seed_hosts(p: Clients, n: str, vpc: str, subnets: list[str]) -> Made:
    """The workloads' hosts and network: dedicated hosts, transit gateway route tables, ECS
    container instances, Network Firewalls."""
    made: Made = {}
    ec2 = p("ec2")
    made["ec2.dedicated_host"] = ec2.allocate_hosts(
        AvailabilityZone=f"{ec2.meta.region_name}a", InstanceType="m5.large", Quantity=2
    )["HostIds"]
    gateway = ec2.create_transit_gateway(Description=n)["TransitGateway"]["TransitGatewayId"]
    made["ec2.transit_gateway_route_table"] = [
        ec2.create_transit_gateway_route_table(TransitGatewayId=gateway)[
            "TransitGatewayRouteTable"
        ]["TransitGatewayRouteTableId"]
        for _ in PAIR
    ]
    policy = f"arn:aws:network-firewall:{ec2.meta.region_name}:{_account(p)}:firewall-policy/{n}"
    ecs = p("ecs")
    ecs.create_cluster(clusterName=n)
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=2, MaxCount=2)["Instances"]
    made["ecs.container_instance"] = [
        ecs.register_container_instance(
            cluster=n,
            instanceIdentityDocument=json.dumps(
                {"instanceId": i["InstanceId"], "region": ec2.meta.region_name}
            ),
        )["containerInstance"]["containerInstanceArn"]
        for i in instance
    ]
    made["network-firewall.firewall"] = [
        p("network-firewall").create_firewall(
            FirewallName=f"{n}-{x}",
            FirewallPolicyArn=policy,
            VpcId=vpc,
            SubnetMappings=[{"SubnetId": subnets[0]}],
            Tags=[{"Key": "team", "Value": "data"}],
        )["Firewall"]["FirewallName"]
        for x in PAIR
    ]
    return made


def _zip() -> bytes:
    """A minimal deployment package: moto stores it, nothing runs it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def defaults(p: Clients) -> Made:
    """What AWS (and moto) create on their own, listed after seeding: each VPC's default
    network ACL, each transit gateway's default route table, and the automated Redshift
    snapshots (moto ignores SnapshotType=manual)."""
    acls = p("ec2").describe_network_acls(Filters=[{"Name": "default", "Values": ["true"]}])
    snapshots = p("redshift").describe_cluster_snapshots()["Snapshots"]
    tables = p("ec2").describe_transit_gateway_route_tables()["TransitGatewayRouteTables"]
    return {
        # A new transit gateway comes with its default route table.
        "ec2.transit_gateway_route_table": [
            t["TransitGatewayRouteTableId"] for t in tables if t["DefaultAssociationRouteTable"]
        ],
        "ec2.network_acl": [a["NetworkAclId"] for a in acls["NetworkAcls"]],
        "redshift.cluster_snapshot": [
            s["SnapshotIdentifier"] for s in snapshots if s.get("SnapshotType") == "automated"
        ],
    }


_TEAM = [{"Key": "team", "Value": "data"}]
# More than the e2e's page size (5): the declared paging of the types seeded this many is
# read across pages from moto, which pages these calls although botocore has no paginator.
SIX = tuple("abcdef")
_WAF_VISIBILITY = {
    "SampledRequestsEnabled": False,
    "CloudWatchMetricsEnabled": False,
    "MetricName": "m",
}


def _dax_name(n: str, x: str) -> str:
    # DAX cluster names: at most 20 characters, a letter first, no trailing hyphen.
    return f"dax-{x}-{n[3:9]}"


def seed_breadth(p: Clients, n: str) -> Made:
    """CodeBuild, Athena, EventBridge buses and API destinations, Resolver query logs, WAFv2,
    SESv2 identities, RDS parameter groups, egress-only gateways, DAX, FSx, Private CAs."""
    made: Made = {}
    account = _account(p)
    role = f"arn:aws:iam::{account}:role/{n}"
    for x in PAIR:
        p("codebuild").create_project(
            name=f"{n}-{x}",
            source={"type": "S3", "location": f"{n}-src/source.zip"},
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "type": "LINUX_CONTAINER",
                "image": "aws/codebuild/standard:7.0",
                "computeType": "BUILD_GENERAL1_SMALL",
                "environmentVariables": [{"name": "TOKEN", "value": "not-the-secret"}],
            },
            serviceRole=role,
            tags=[{"key": "team", "value": "data"}],
        )
    made["codebuild.project"] = [f"{n}-{x}" for x in PAIR]
    athena = p("athena")
    for x in PAIR:
        athena.create_work_group(Name=f"{n}-{x}")
        athena.create_data_catalog(Name=f"{n}-{x}", Type="GLUE", Parameters={"catalog-id": account})
    # Every region has its primary work group.
    made["athena.work_group"] = ["primary", *(f"{n}-{x}" for x in PAIR)]
    made["athena.data_catalog"] = [f"{n}-{x}" for x in PAIR]
    events = p("events")
    for x in SIX:
        events.create_event_bus(Name=f"{n}-{x}", Tags=_TEAM)
    # Every region has its default bus.
    made["events.event_bus"] = ["default", *(f"{n}-{x}" for x in SIX)]
    connection = events.create_connection(
        Name=n,
        AuthorizationType="API_KEY",
        AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}},
    )["ConnectionArn"]
    for x in PAIR:
        events.create_api_destination(
            Name=f"{n}-{x}",
            ConnectionArn=connection,
            InvocationEndpoint="https://example.invalid/hook",
            HttpMethod="POST",
        )
    made["events.api_destination"] = [f"{n}-{x}" for x in PAIR]
    made["route53resolver.query_log_config"] = [
        p("route53resolver").create_resolver_query_log_config(
            Name=f"{n}-{x}",
            DestinationArn=f"arn:aws:logs:{p('s3').meta.region_name}:{account}:log-group:{n}",
            CreatorRequestId=f"{n}-{x}",
            Tags=_TEAM,
        )["ResolverQueryLogConfig"]["Id"]
        for x in PAIR
    ]
    waf = p("wafv2")
    made["wafv2.web_acl"] = [
        waf.create_web_acl(
            Name=f"{n}-{x}",
            Scope="REGIONAL",
            DefaultAction={"Allow": {}},
            VisibilityConfig=_WAF_VISIBILITY,
            Tags=_TEAM,
        )["Summary"]["Id"]
        for x in PAIR
    ]
    made["wafv2.ip_set"] = [
        waf.create_ip_set(
            Name=f"{n}-{x}",
            Scope="REGIONAL",
            IPAddressVersion="IPV4",
            Addresses=["192.0.2.0/24"],
            Tags=_TEAM,
        )["Summary"]["Id"]
        for x in SIX
    ]
    made["wafv2.rule_group"] = [
        waf.create_rule_group(
            Name=f"{n}-{x}",
            Scope="REGIONAL",
            Capacity=10,
            VisibilityConfig=_WAF_VISIBILITY,
            Tags=_TEAM,
        )["Summary"]["Id"]
        for x in PAIR
    ]
    for x in SIX:
        p("sesv2").create_email_identity(EmailIdentity=f"{n}-{x}.example.com", Tags=_TEAM)
    made["sesv2.email_identity"] = [f"{n}-{x}.example.com" for x in SIX]
    rds = p("rds")
    for x in PAIR:
        rds.create_db_parameter_group(
            DBParameterGroupName=f"{n}-{x}",
            DBParameterGroupFamily="mysql8.0",
            Description="e2e",
            Tags=_TEAM,
        )
        rds.create_db_cluster_parameter_group(
            DBClusterParameterGroupName=f"{n}-{x}",
            DBParameterGroupFamily="aurora-mysql8.0",
            Description="e2e",
            Tags=_TEAM,
        )
    made["rds.db_parameter_group"] = [f"{n}-{x}" for x in PAIR]
    made["rds.db_cluster_parameter_group"] = [f"{n}-{x}" for x in PAIR]
    vpc, subnets = _vpc(p("ec2"), "10.42.0.0/16")
    made["ec2.egress_only_internet_gateway"] = [
        p("ec2").create_egress_only_internet_gateway(VpcId=vpc)["EgressOnlyInternetGateway"][
            "EgressOnlyInternetGatewayId"
        ]
        for _ in PAIR
    ]
    for x in PAIR:
        p("dax").create_cluster(
            ClusterName=_dax_name(n, x),
            NodeType="dax.t3.small",
            ReplicationFactor=1,
            IamRoleArn=role,
            Tags=_TEAM,
        )
    made["dax.cluster"] = [_dax_name(n, x) for x in PAIR]
    made["fsx.file_system"] = [
        p("fsx").create_file_system(
            FileSystemType="LUSTRE", StorageCapacity=1200, SubnetIds=subnets[:1], Tags=_TEAM
        )["FileSystem"]["FileSystemId"]
        for _ in PAIR
    ]
    made["acm-pca.certificate_authority"] = [
        p("acm-pca").create_certificate_authority(
            CertificateAuthorityConfiguration={
                "KeyAlgorithm": "RSA_2048",
                "SigningAlgorithm": "SHA256WITHRSA",
                "Subject": {"CommonName": f"{n}-{x}.example.com"},
            },
            CertificateAuthorityType="ROOT",
            Tags=_TEAM,
        )["CertificateAuthorityArn"]
        for x in PAIR
    ]
    return made


def seed_children(p: Clients, n: str) -> Made:
    """ECS tasks, EKS Fargate profiles and add-ons, RDS proxies, DHCP option sets."""
    made: Made = {}
    account = _account(p)
    role = f"arn:aws:iam::{account}:role/{n}"
    ec2 = p("ec2")
    _, subnets = _vpc(ec2, "10.43.0.0/16")
    secret = f"arn:aws:secretsmanager:{ec2.meta.region_name}:{account}:secret:{n}"
    ecs = p("ecs")
    ecs.create_cluster(clusterName=n)
    ecs.register_task_definition(
        family=n, containerDefinitions=[{"name": "app", "image": "app:1", "memory": 128}]
    )
    [instance] = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"]
    ecs.register_container_instance(
        cluster=n,
        instanceIdentityDocument=json.dumps(
            {"instanceId": instance["InstanceId"], "region": ec2.meta.region_name}
        ),
    )
    made["ecs.task"] = [
        t["taskArn"]
        for t in ecs.run_task(
            cluster=n, taskDefinition=n, count=2, tags=[{"key": "team", "value": "data"}]
        )["tasks"]
    ]
    eks = p("eks")
    eks.create_cluster(name=n, roleArn=role, resourcesVpcConfig={"subnetIds": subnets})
    made["eks.fargate_profile"] = [
        eks.create_fargate_profile(
            fargateProfileName=f"{n}-{x}",
            clusterName=n,
            podExecutionRoleArn=role,
            subnets=subnets,
            selectors=[{"namespace": x}],
            tags={"team": "data"},
        )["fargateProfile"]["fargateProfileArn"]
        for x in PAIR
    ]
    made["rds.db_proxy"] = [
        p("rds").create_db_proxy(
            DBProxyName=f"{n}-{x}",
            EngineFamily="MYSQL",
            Auth=[
                {
                    "AuthScheme": "SECRETS",
                    "SecretArn": secret,
                }
            ],
            RoleArn=role,
            VpcSubnetIds=subnets,
            Tags=_TEAM,
        )["DBProxy"]["DBProxyName"]
        for x in PAIR
    ]
    made["ec2.dhcp_options"] = [
        ec2.create_dhcp_options(
            DhcpConfigurations=[{"Key": "domain-name", "Values": [f"{n}-{x}.internal"]}]
        )["DhcpOptions"]["DhcpOptionsId"]
        for x in PAIR
    ]
    return made


SEEDS: dict[str, Callable[[Clients, str], Made]] = {
    "network": seed_network,
    "identity": seed_identity,
    "apis": seed_apis,
    "data": seed_data,
    "operations": seed_operations,
    "platform": seed_platform,
    "workloads": seed_workloads,
    "breadth": seed_breadth,
    "children": seed_children,
}
