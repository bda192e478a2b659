"""EC2 resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, EventRule, Refresh, Relation
from fleetstream.catalog.entry import RelationName as R

_EC2 = "ec2.amazonaws.com"


def _tagged(prefix: str) -> EventRule:
    """CreateTags/DeleteTags name resources of every EC2 type: keep those with prefix."""
    return EventRule(
        _EC2,
        ("CreateTags", "DeleteTags"),
        "requestParameters.resourcesSet.items[].resourceId",
        id_prefix=prefix,
    )


_ARN = "arn:{partition}:ec2:{region}:{account_id}:"
_IN_VPC = Relation(R.IS_CONTAINED_IN, "VpcId", "ec2.vpc")
_IN_SUBNET = Relation(R.IS_CONTAINED_IN, "SubnetId", "ec2.subnet")

INSTANCE = CatalogEntry(
    type_name="ec2.instance",
    operation="DescribeInstances",
    result_path="Reservations[].Instances[]",
    id_path="InstanceId",
    arn_template="arn:{partition}:ec2:{region}:{account_id}:instance/{id}",
    name_path="tag:Name",
    # EC2 keeps listing a terminated instance for about an hour; to an inventory it is gone,
    # so the sweep stops seeing it and the deletion rules tombstone it.
    request_params={
        "Filters": [
            {
                "Name": "instance-state-name",
                "Values": ["pending", "running", "shutting-down", "stopping", "stopped"],
            }
        ]
    },
    volatile_fields=("NetworkInterfaces[].Attachment.AttachTime",),
    relations=(
        _IN_SUBNET,
        _IN_VPC,
        Relation(R.IS_ASSOCIATED_WITH, "SecurityGroups[].GroupId", "ec2.security_group"),
        Relation(R.IS_ATTACHED_TO, "BlockDeviceMappings[].Ebs.VolumeId", "ec2.volume"),
        Relation(R.CONTAINS, "NetworkInterfaces[].NetworkInterfaceId", "ec2.network_interface"),
    ),
    refresh=Refresh(
        events=(
            EventRule(_EC2, ("RunInstances",), "responseElements.instancesSet.items[].instanceId"),
            EventRule(
                _EC2,
                ("TerminateInstances", "StopInstances", "StartInstances", "RebootInstances"),
                "requestParameters.instancesSet.items[].instanceId",
            ),
            EventRule(
                _EC2,
                ("ModifyInstanceAttribute", "ModifyInstanceMetadataOptions"),
                "requestParameters.instanceId",
            ),
            _tagged("i-"),
        ),
        ids_param="InstanceIds",
        # No state filter: a refresh shows a terminated instance in its terminal state (a
        # MODIFIED change); the next sweep, which filters it out, then deletes it.
        request_params={},
    ),
)

VOLUME = CatalogEntry(
    type_name="ec2.volume",
    operation="DescribeVolumes",
    result_path="Volumes[]",
    id_path="VolumeId",
    arn_template=_ARN + "volume/{id}",
    name_path="tag:Name",
    refresh=Refresh(
        events=(
            EventRule(_EC2, ("CreateVolume",), "responseElements.volumeId"),
            EventRule(
                _EC2,
                ("DeleteVolume", "ModifyVolume", "AttachVolume", "DetachVolume"),
                "requestParameters.volumeId",
            ),
            _tagged("vol-"),
        ),
        ids_param="VolumeIds",
    ),
)

SNAPSHOT = CatalogEntry(
    type_name="ec2.snapshot",
    operation="DescribeSnapshots",
    request_params={"OwnerIds": ["self"]},  # never the public snapshots of others
    result_path="Snapshots[]",
    id_path="SnapshotId",
    arn_template="arn:{partition}:ec2:{region}::snapshot/{id}",
    name_path="tag:Name",
    volatile_fields=("Progress",),
)

IMAGE = CatalogEntry(
    type_name="ec2.image",
    operation="DescribeImages",
    request_params={"Owners": ["self"]},  # never the public AMI catalog
    result_path="Images[]",
    id_path="ImageId",
    arn_template="arn:{partition}:ec2:{region}::image/{id}",
    name_path="Name",
    volatile_fields=("LastLaunchedTime",),
)

SECURITY_GROUP = CatalogEntry(
    type_name="ec2.security_group",
    operation="DescribeSecurityGroups",
    result_path="SecurityGroups[]",
    id_path="GroupId",
    arn_path="SecurityGroupArn",
    arn_template=_ARN + "security-group/{id}",
    name_path="GroupName",
    relations=(_IN_VPC,),
    refresh=Refresh(
        events=(
            EventRule(_EC2, ("CreateSecurityGroup",), "responseElements.groupId"),
            EventRule(
                _EC2,
                (
                    "DeleteSecurityGroup",
                    "AuthorizeSecurityGroupIngress",
                    "AuthorizeSecurityGroupEgress",
                    "RevokeSecurityGroupIngress",
                    "RevokeSecurityGroupEgress",
                    "UpdateSecurityGroupRuleDescriptionsIngress",
                    "UpdateSecurityGroupRuleDescriptionsEgress",
                ),
                "requestParameters.groupId",
            ),
            _tagged("sg-"),
        ),
        ids_param="GroupIds",
    ),
)

VPC = CatalogEntry(
    type_name="ec2.vpc",
    operation="DescribeVpcs",
    result_path="Vpcs[]",
    id_path="VpcId",
    arn_template=_ARN + "vpc/{id}",
    name_path="tag:Name",
    refresh=Refresh(
        events=(
            EventRule(_EC2, ("CreateVpc",), "responseElements.vpc.vpcId"),
            EventRule(_EC2, ("DeleteVpc", "ModifyVpcAttribute"), "requestParameters.vpcId"),
            _tagged("vpc-"),
        ),
        ids_param="VpcIds",
    ),
)

SUBNET = CatalogEntry(
    type_name="ec2.subnet",
    operation="DescribeSubnets",
    result_path="Subnets[]",
    id_path="SubnetId",
    arn_path="SubnetArn",
    arn_template=_ARN + "subnet/{id}",
    name_path="tag:Name",
    volatile_fields=("AvailableIpAddressCount",),
    relations=(_IN_VPC,),
    refresh=Refresh(
        events=(
            EventRule(_EC2, ("CreateSubnet",), "responseElements.subnet.subnetId"),
            EventRule(
                _EC2, ("DeleteSubnet", "ModifySubnetAttribute"), "requestParameters.subnetId"
            ),
            _tagged("subnet-"),
        ),
        ids_param="SubnetIds",
    ),
)

NETWORK_INTERFACE = CatalogEntry(
    type_name="ec2.network_interface",
    operation="DescribeNetworkInterfaces",
    result_path="NetworkInterfaces[]",
    id_path="NetworkInterfaceId",
    arn_template=_ARN + "network-interface/{id}",
    name_path="tag:Name",
    tags_path="TagSet",
    relations=(
        _IN_SUBNET,
        _IN_VPC,
        Relation(R.IS_ASSOCIATED_WITH, "Groups[].GroupId", "ec2.security_group"),
    ),
)

ELASTIC_IP = CatalogEntry(
    type_name="ec2.elastic_ip",
    operation="DescribeAddresses",
    paginated=False,  # DescribeAddresses returns every address at once
    result_path="Addresses[]",
    id_path="AllocationId",
    arn_template=_ARN + "elastic-ip/{id}",
    name_path="tag:Name",
    relations=(
        Relation(R.IS_ASSOCIATED_WITH, "InstanceId", "ec2.instance"),
        Relation(R.IS_ASSOCIATED_WITH, "NetworkInterfaceId", "ec2.network_interface"),
    ),
)

NAT_GATEWAY = CatalogEntry(
    type_name="ec2.nat_gateway",
    operation="DescribeNatGateways",
    result_path="NatGateways[]",
    id_path="NatGatewayId",
    arn_template=_ARN + "natgateway/{id}",
    name_path="tag:Name",
    relations=(_IN_SUBNET, _IN_VPC),
)

INTERNET_GATEWAY = CatalogEntry(
    type_name="ec2.internet_gateway",
    operation="DescribeInternetGateways",
    result_path="InternetGateways[]",
    id_path="InternetGatewayId",
    arn_template=_ARN + "internet-gateway/{id}",
    name_path="tag:Name",
    relations=(Relation(R.IS_ATTACHED_TO, "Attachments[].VpcId", "ec2.vpc"),),
)

ROUTE_TABLE = CatalogEntry(
    type_name="ec2.route_table",
    operation="DescribeRouteTables",
    result_path="RouteTables[]",
    id_path="RouteTableId",
    arn_template=_ARN + "route-table/{id}",
    name_path="tag:Name",
    relations=(
        _IN_VPC,
        # Explicit associations only: a subnet without one uses the VPC's main table.
        Relation(R.IS_ASSOCIATED_WITH, "Associations[].SubnetId", "ec2.subnet"),
        Relation(
            R.IS_ASSOCIATED_WITH,
            "Routes[?GatewayId && starts_with(GatewayId, 'igw-')].GatewayId",
            "ec2.internet_gateway",
        ),
        Relation(R.IS_ASSOCIATED_WITH, "Routes[].NatGatewayId", "ec2.nat_gateway"),
    ),
)

LAUNCH_TEMPLATE = CatalogEntry(
    type_name="ec2.launch_template",
    operation="DescribeLaunchTemplates",
    result_path="LaunchTemplates[]",
    id_path="LaunchTemplateId",
    arn_template=_ARN + "launch-template/{id}",
    name_path="LaunchTemplateName",
)

KEY_PAIR = CatalogEntry(
    type_name="ec2.key_pair",
    operation="DescribeKeyPairs",
    paginated=False,  # DescribeKeyPairs returns every key pair at once
    result_path="KeyPairs[]",
    id_path="KeyPairId",
    arn_template=_ARN + "key-pair/{id}",
    name_path="KeyName",
)

ENTRIES = (
    INSTANCE,
    VOLUME,
    SNAPSHOT,
    IMAGE,
    SECURITY_GROUP,
    VPC,
    SUBNET,
    NETWORK_INTERFACE,
    ELASTIC_IP,
    NAT_GATEWAY,
    INTERNET_GATEWAY,
    ROUTE_TABLE,
    LAUNCH_TEMPLATE,
    KEY_PAIR,
)
