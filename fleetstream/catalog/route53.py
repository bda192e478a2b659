"""Route 53 resource types (global: listed once per account)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail
from fleetstream.catalog.quirks import last_segment

HOSTED_ZONE = CatalogEntry(
    type_name="route53.hosted_zone",
    operation="ListHostedZones",
    result_path="HostedZones[]",
    id_path="ZoneId",
    arn_template="arn:{partition}:route53:::hostedzone/{id}",
    name_path="Name",
    global_resource=True,
    page_size_limits=(1, 100),
    details=(
        Detail(
            "ListTagsForResource",
            {"ResourceId": "ZoneId"},
            "ResourceTagSet.Tags",
            into="Tags",
            static_params={"ResourceType": "hostedzone"},
            absent_codes=("NoSuchHostedZone",),
        ),
    ),
    # Id is "/hostedzone/Z123"; the ARN and people use "Z123".
    prepare=last_segment("Id", "ZoneId"),
    quirk_fields=("ZoneId",),
)

ENTRIES = (HOSTED_ZONE,)
