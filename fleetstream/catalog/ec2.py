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

NETWORK_ACL = CatalogEntry(
    type_name="ec2.network_acl",
    operation="DescribeNetworkAcls",
    result_path="NetworkAcls[]",
    id_path="NetworkAclId",
    arn_template=_ARN + "network-acl/{id}",
    name_path="tag:Name",
    relations=(_IN_VPC, Relation(R.IS_ASSOCIATED_WITH, "Associations[].SubnetId", "ec2.subnet")),
    refresh=Refresh(
        events=(
            EventRule(_EC2, ("CreateNetworkAcl",), "responseElements.networkAcl.networkAclId"),
            EventRule(
                _EC2,
                ("DeleteNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAclEntry"),
                "requestParameters.networkAclId",
            ),
            _tagged("acl-"),
        ),
        ids_param="NetworkAclIds",
    ),
)

TRANSIT_GATEWAY = CatalogEntry(
    type_name="ec2.transit_gateway",
    operation="DescribeTransitGateways",
    result_path="TransitGateways[]",
    id_path="TransitGatewayId",
    arn_path="TransitGatewayArn",
    arn_template=_ARN + "transit-gateway/{id}",
    name_path="tag:Name",
    refresh=Refresh(events=(_tagged("tgw-"),), ids_param="TransitGatewayIds"),
)

TRANSIT_GATEWAY_ATTACHMENT = CatalogEntry(
    type_name="ec2.transit_gateway_attachment",
    operation="DescribeTransitGatewayAttachments",
    result_path="TransitGatewayAttachments[]",
    id_path="TransitGatewayAttachmentId",
    arn_template=_ARN + "transit-gateway-attachment/{id}",
    name_path="tag:Name",
    relations=(
        Relation(R.IS_ATTACHED_TO, "TransitGatewayId", "ec2.transit_gateway"),
        Relation(R.IS_ASSOCIATED_WITH, "ResourceType == 'vpc' && ResourceId", "ec2.vpc"),
    ),
    refresh=Refresh(events=(_tagged("tgw-attach-"),), ids_param="TransitGatewayAttachmentIds"),
)

VPC_ENDPOINT = CatalogEntry(
    type_name="ec2.vpc_endpoint",
    operation="DescribeVpcEndpoints",
    result_path="VpcEndpoints[]",
    id_path="VpcEndpointId",
    arn_template=_ARN + "vpc-endpoint/{id}",
    name_path="tag:Name",
    relations=(
        _IN_VPC,
        Relation(R.IS_CONTAINED_IN, "SubnetIds", "ec2.subnet"),
        Relation(R.IS_ASSOCIATED_WITH, "Groups[].GroupId", "ec2.security_group"),
        Relation(R.IS_ASSOCIATED_WITH, "RouteTableIds", "ec2.route_table"),
        Relation(R.CONTAINS, "NetworkInterfaceIds", "ec2.network_interface"),
    ),
    refresh=Refresh(
        events=(
            EventRule(_EC2, ("CreateVpcEndpoint",), "responseElements.vpcEndpoint.vpcEndpointId"),
            EventRule(_EC2, ("ModifyVpcEndpoint",), "requestParameters.vpcEndpointId"),
            _tagged("vpce-"),
        ),
        ids_param="VpcEndpointIds",
    ),
)

VPC_PEERING_CONNECTION = CatalogEntry(
    type_name="ec2.vpc_peering_connection",
    operation="DescribeVpcPeeringConnections",
    result_path="VpcPeeringConnections[]",
    id_path="VpcPeeringConnectionId",
    arn_template=_ARN + "vpc-peering-connection/{id}",
    name_path="tag:Name",
    relations=(
        Relation(R.IS_ASSOCIATED_WITH, "RequesterVpcInfo.VpcId", "ec2.vpc"),
        Relation(R.IS_ASSOCIATED_WITH, "AccepterVpcInfo.VpcId", "ec2.vpc"),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                _EC2,
                ("CreateVpcPeeringConnection",),
                "responseElements.vpcPeeringConnection.vpcPeeringConnectionId",
            ),
            EventRule(
                _EC2,
                (
                    "AcceptVpcPeeringConnection",
                    "RejectVpcPeeringConnection",
                    "DeleteVpcPeeringConnection",
                ),
                "requestParameters.vpcPeeringConnectionId",
            ),
            _tagged("pcx-"),
        ),
        ids_param="VpcPeeringConnectionIds",
    ),
)

VPN_GATEWAY = CatalogEntry(
    type_name="ec2.vpn_gateway",
    operation="DescribeVpnGateways",
    paginated=False,  # DescribeVpnGateways returns every gateway at once
    result_path="VpnGateways[]",
    id_path="VpnGatewayId",
    arn_template=_ARN + "vpn-gateway/{id}",
    name_path="tag:Name",
    relations=(Relation(R.IS_ATTACHED_TO, "VpcAttachments[].VpcId", "ec2.vpc"),),
    refresh=Refresh(
        events=(
            EventRule(_EC2, ("CreateVpnGateway",), "responseElements.vpnGateway.vpnGatewayId"),
            EventRule(
                _EC2,
                ("DeleteVpnGateway", "AttachVpnGateway", "DetachVpnGateway"),
                "requestParameters.vpnGatewayId",
            ),
            _tagged("vgw-"),
        ),
        ids_param="VpnGatewayIds",
    ),
)

CUSTOMER_GATEWAY = CatalogEntry(
    type_name="ec2.customer_gateway",
    operation="DescribeCustomerGateways",
    paginated=False,  # DescribeCustomerGateways returns every gateway at once
    result_path="CustomerGateways[]",
    id_path="CustomerGatewayId",
    arn_template=_ARN + "customer-gateway/{id}",
    name_path="tag:Name",
    refresh=Refresh(
        events=(
            EventRule(
                _EC2,
                ("CreateCustomerGateway",),
                "responseElements.customerGateway.customerGatewayId",
            ),
            EventRule(_EC2, ("DeleteCustomerGateway",), "requestParameters.customerGatewayId"),
            _tagged("cgw-"),
        ),
        ids_param="CustomerGatewayIds",
    ),
)

VPN_CONNECTION = CatalogEntry(
    type_name="ec2.vpn_connection",
    operation="DescribeVpnConnections",
    paginated=False,  # DescribeVpnConnections returns every connection at once
    result_path="VpnConnections[]",
    id_path="VpnConnectionId",
    arn_template=_ARN + "vpn-connection/{id}",
    name_path="tag:Name",
    # The tunnels' pre-shared keys: in the configuration XML and in each tunnel's options.
    sensitive_fields=("CustomerGatewayConfiguration", "Options.TunnelOptions[].PreSharedKey"),
    volatile_fields=("VgwTelemetry",),
    relations=(
        Relation(R.IS_ATTACHED_TO, "VpnGatewayId", "ec2.vpn_gateway"),
        Relation(R.IS_ATTACHED_TO, "TransitGatewayId", "ec2.transit_gateway"),
        Relation(R.IS_ASSOCIATED_WITH, "CustomerGatewayId", "ec2.customer_gateway"),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                _EC2, ("CreateVpnConnection",), "responseElements.vpnConnection.vpnConnectionId"
            ),
            EventRule(
                _EC2,
                ("DeleteVpnConnection", "ModifyVpnConnection"),
                "requestParameters.vpnConnectionId",
            ),
            _tagged("vpn-"),
        ),
        ids_param="VpnConnectionIds",
    ),
)

FLOW_LOG = CatalogEntry(
    type_name="ec2.flow_log",
    operation="DescribeFlowLogs",
    result_path="FlowLogs[]",
    id_path="FlowLogId",
    arn_template=_ARN + "vpc-flow-log/{id}",
    name_path="tag:Name",
    volatile_fields=("DeliverLogsStatus", "DeliverLogsErrorMessage"),
    relations=(
        Relation(R.IS_ASSOCIATED_WITH, "starts_with(ResourceId, 'vpc-') && ResourceId", "ec2.vpc"),
        Relation(
            R.IS_ASSOCIATED_WITH, "starts_with(ResourceId, 'subnet-') && ResourceId", "ec2.subnet"
        ),
        Relation(
            R.IS_ASSOCIATED_WITH,
            "starts_with(ResourceId, 'eni-') && ResourceId",
            "ec2.network_interface",
        ),
    ),
    refresh=Refresh(events=(_tagged("fl-"),), ids_param="FlowLogIds"),
)

MANAGED_PREFIX_LIST = CatalogEntry(
    type_name="ec2.managed_prefix_list",
    operation="DescribeManagedPrefixLists",
    # AWS's own lists (com.amazonaws.<region>.s3, ...) are in every account: not inventory.
    result_path="PrefixLists[?OwnerId != 'AWS']",
    id_path="PrefixListId",
    arn_path="PrefixListArn",
    arn_template=_ARN + "prefix-list/{id}",
    name_path="PrefixListName",
    volatile_fields=("State",),
    refresh=Refresh(
        events=(
            EventRule(
                _EC2, ("CreateManagedPrefixList",), "responseElements.prefixList.prefixListId"
            ),
            EventRule(
                _EC2,
                ("ModifyManagedPrefixList", "DeleteManagedPrefixList"),
                "requestParameters.prefixListId",
            ),
            _tagged("pl-"),
        ),
        ids_param="PrefixListIds",
    ),
)

VPC_ENDPOINT_SERVICE = CatalogEntry(
    type_name="ec2.vpc_endpoint_service",
    operation="DescribeVpcEndpointServiceConfigurations",
    result_path="ServiceConfigurations[]",
    id_path="ServiceId",
    arn_template=_ARN + "vpc-endpoint-service/{id}",
    name_path="ServiceName",
    volatile_fields=("ServiceState",),
    refresh=Refresh(
        events=(
            EventRule(
                _EC2,
                ("CreateVpcEndpointServiceConfiguration",),
                "responseElements.serviceConfiguration.serviceId",
            ),
            EventRule(
                _EC2,
                ("ModifyVpcEndpointServiceConfiguration", "ModifyVpcEndpointServicePermissions"),
                "requestParameters.serviceId",
            ),
            _tagged("vpce-svc-"),
        ),
        ids_param="ServiceIds",
    ),
)

SPOT_FLEET_REQUEST = CatalogEntry(
    type_name="ec2.spot_fleet_request",
    operation="DescribeSpotFleetRequests",
    result_path="SpotFleetRequestConfigs[]",
    id_path="SpotFleetRequestId",
    arn_template=_ARN + "spot-fleet-request/{id}",
    name_path="tag:Name",
    volatile_fields=("ActivityStatus", "SpotFleetRequestConfig.FulfilledCapacity"),
    # Launch specifications carry the instances' user data.
    sensitive_fields=("SpotFleetRequestConfig.LaunchSpecifications[].UserData",),
    refresh=Refresh(
        events=(
            EventRule(_EC2, ("RequestSpotFleet",), "responseElements.spotFleetRequestId"),
            EventRule(_EC2, ("ModifySpotFleetRequest",), "requestParameters.spotFleetRequestId"),
            _tagged("sfr-"),
        ),
        ids_param="SpotFleetRequestIds",
    ),
)
DEDICATED_HOST = CatalogEntry(
    type_name="ec2.dedicated_host",
    operation="DescribeHosts",
    result_path="Hosts[]",
    id_path="HostId",
    arn_template=_ARN + "dedicated-host/{id}",
    name_path="tag:Name",
    volatile_fields=("AvailableCapacity", "Instances"),
    refresh=Refresh(
        events=(
            EventRule(_EC2, ("AllocateHosts",), "responseElements.hostIdSet.items[].hostId"),
            EventRule(
                _EC2,
                ("ReleaseHosts", "ModifyHosts"),
                "requestParameters.hostSet.items[].hostId",
            ),
            _tagged("h-"),
        ),
        ids_param="HostIds",
    ),
)

TRANSIT_GATEWAY_ROUTE_TABLE = CatalogEntry(
    type_name="ec2.transit_gateway_route_table",
    operation="DescribeTransitGatewayRouteTables",
    result_path="TransitGatewayRouteTables[]",
    id_path="TransitGatewayRouteTableId",
    arn_template=_ARN + "transit-gateway-route-table/{id}",
    name_path="tag:Name",
    relations=(Relation(R.IS_CONTAINED_IN, "TransitGatewayId", "ec2.transit_gateway"),),
    refresh=Refresh(events=(_tagged("tgw-rtb-"),), ids_param="TransitGatewayRouteTableIds"),
)


DHCP_OPTIONS = CatalogEntry(
    type_name="ec2.dhcp_options",
    operation="DescribeDhcpOptions",
    result_path="DhcpOptions[]",
    id_path="DhcpOptionsId",
    arn_template=_ARN + "dhcp-options/{id}",
    name_path="tag:Name",
)

EGRESS_ONLY_INTERNET_GATEWAY = CatalogEntry(
    type_name="ec2.egress_only_internet_gateway",
    operation="DescribeEgressOnlyInternetGateways",
    result_path="EgressOnlyInternetGateways[]",
    id_path="EgressOnlyInternetGatewayId",
    arn_template=_ARN + "egress-only-internet-gateway/{id}",
    name_path="tag:Name",
    relations=(Relation(R.IS_ATTACHED_TO, "Attachments[].VpcId", "ec2.vpc"),),
)

PLACEMENT_GROUP = CatalogEntry(
    type_name="ec2.placement_group",
    operation="DescribePlacementGroups",
    paginated=False,  # no token: one call returns every group
    result_path="PlacementGroups[]",
    id_path="GroupName",
    arn_path="GroupArn",
    arn_template=_ARN + "placement-group/{id}",
    name_path="GroupName",
    volatile_fields=("State",),
    refresh=Refresh(
        events=(
            EventRule(
                _EC2,
                ("CreatePlacementGroup", "DeletePlacementGroup", "ModifyInstancePlacement"),
                "requestParameters.groupName",
            ),
        ),
        ids_param="GroupNames",
    ),
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
    NETWORK_ACL,
    TRANSIT_GATEWAY,
    TRANSIT_GATEWAY_ATTACHMENT,
    VPC_ENDPOINT,
    VPC_PEERING_CONNECTION,
    VPN_GATEWAY,
    CUSTOMER_GATEWAY,
    VPN_CONNECTION,
    FLOW_LOG,
    MANAGED_PREFIX_LIST,
    VPC_ENDPOINT_SERVICE,
    SPOT_FLEET_REQUEST,
    DEDICATED_HOST,
    TRANSIT_GATEWAY_ROUTE_TABLE,
    DHCP_OPTIONS,
    EGRESS_ONLY_INTERNET_GATEWAY,
    PLACEMENT_GROUP,
)
