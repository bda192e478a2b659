"""API Gateway v2 (HTTP and WebSocket APIs) resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Parent, TagStyle
from fleetstream.catalog.quirks import formatted

_ARN = "arn:{partition}:apigateway:{region}::/apis/{id}"

API = CatalogEntry(
    type_name="apigatewayv2.api",
    operation="GetApis",
    result_path="Items[]",
    id_path="ApiId",
    arn_template=_ARN,
    name_path="Name",
    tag_style=TagStyle.MAP,
)

STAGE = CatalogEntry(
    type_name="apigatewayv2.stage",
    operation="GetStages",
    parent=Parent("GetApis", "Items", "ApiId", param="ApiId", into="ApiId"),
    result_path="Items[]",
    # A stage name ($default) is unique within its API only; the ARN's path names both.
    id_path="StageId",
    arn_template=_ARN,
    name_path="StageName",
    tag_style=TagStyle.MAP,
    quirk=formatted("StageId", "{ApiId}/stages/{StageName}"),
    quirk_fields=("StageId",),
    volatile_fields=("LastDeploymentStatusMessage",),
)

ENTRIES = (API, STAGE)
