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

HEALTH_CHECK = CatalogEntry(
    type_name="route53.health_check",
    operation="ListHealthChecks",
    result_path="HealthChecks[]",
    id_path="Id",
    arn_template="arn:{partition}:route53:::healthcheck/{id}",
    name_path="HealthCheckConfig.FullyQualifiedDomainName",
    global_resource=True,
    page_size_limits=(1, 100),
    details=(
        Detail(
            "ListTagsForResources",
            {"ResourceIds": "Id"},
            "ResourceTagSets",
            into="Tags",
            static_params={"ResourceType": "healthcheck"},
            batch_param="ResourceIds",
            batch_size=10,  # ListTagsForResources takes at most 10 ids
            match=("Id", "ResourceId"),
            value_path="Tags",
            absent_codes=("NoSuchHealthCheck",),
        ),
    ),
    # Route 53 bumps the version on every update; the configuration itself is what changes.
    volatile_fields=("HealthCheckVersion",),
)

ENTRIES = (HOSTED_ZONE, HEALTH_CHECK)
