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

ENTRIES = (FIREWALL,)
