"""Network Firewall resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, Relation
from fleetstream.catalog.entry import RelationName as R

FIREWALL = CatalogEntry(
    type_name="network-firewall.firewall",
    operation="ListFirewalls",
    result_path="Firewalls[]",
    id_path="FirewallName",
    arn_path="FirewallArn",
    arn_template="arn:{partition}:network-firewall:{region}:{account_id}:firewall/{id}",
    name_path="FirewallName",
    details=(
        Detail(
            "DescribeFirewall",
            {"FirewallArn": "FirewallArn"},
            "Firewall",
            extra={"FirewallStatus": "FirewallStatus"},
            absent_codes=("ResourceNotFoundException",),
            required=True,
        ),
    ),
    volatile_fields=("FirewallStatus",),
    relations=(
        Relation(R.IS_CONTAINED_IN, "VpcId", "ec2.vpc"),
        Relation(R.IS_CONTAINED_IN, "SubnetMappings[].SubnetId", "ec2.subnet"),
    ),
)

FIREWALL_POLICY = CatalogEntry(
    type_name="network-firewall.firewall_policy",
    operation="ListFirewallPolicies",
    result_path="FirewallPolicies[]",
    id_path="Name",
    arn_path="Arn",
    arn_template="arn:{partition}:network-firewall:{region}:{account_id}:firewall-policy/{id}",
    name_path="Name",
    tags_path="FirewallPolicyResponse.Tags",
    details=(
        Detail(
            "DescribeFirewallPolicy",
            {"FirewallPolicyArn": "Arn"},
            "FirewallPolicyResponse",
            into="FirewallPolicyResponse",
            extra={"FirewallPolicy": "FirewallPolicy"},
            absent_codes=("ResourceNotFoundException",),
            required=True,
        ),
    ),
    volatile_fields=(
        "FirewallPolicyResponse.NumberOfAssociations",
        "FirewallPolicyResponse.LastModifiedTime",
        "FirewallPolicyResponse.FirewallPolicyStatus",
    ),
)

ENTRIES = (FIREWALL, FIREWALL_POLICY)
