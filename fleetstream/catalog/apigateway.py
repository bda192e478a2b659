"""API Gateway (REST APIs, v1) resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, EventRule, Parent, Refresh, TagStyle
from fleetstream.catalog.quirks import formatted

_APIGATEWAY = "apigateway.amazonaws.com"
_ARN = "arn:{partition}:apigateway:{region}::/restapis/{id}"

REST_API = CatalogEntry(
    type_name="apigateway.rest_api",
    operation="GetRestApis",
    result_path="items[]",
    id_path="id",
    arn_template=_ARN,
    name_path="name",
    tags_path="tags",
    tag_style=TagStyle.MAP,
    # GetRestApis takes no ids: a refresh pages the APIs and keeps the named ones.
    refresh=Refresh(
        events=(
            EventRule(_APIGATEWAY, ("CreateRestApi", "ImportRestApi"), "responseElements.id"),
            EventRule(
                _APIGATEWAY,
                ("UpdateRestApi", "PutRestApi", "DeleteRestApi"),
                "requestParameters.restApiId",
            ),
        ),
    ),
)

STAGE = CatalogEntry(
    type_name="apigateway.stage",
    operation="GetStages",
    parent=Parent("GetRestApis", "items", "id", param="restApiId", into="restApiId"),
    paginated=False,  # GetStages returns every stage of the API at once
    result_path="item[]",
    # A stage name (prod) is unique within its API only; the ARN's path names both.
    id_path="StageId",
    arn_template=_ARN,
    name_path="stageName",
    tags_path="tags",
    tag_style=TagStyle.MAP,
    quirk=formatted("StageId", "{restApiId}/stages/{stageName}"),
    quirk_fields=("StageId",),
    volatile_fields=("cacheClusterStatus",),
)

ENTRIES = (REST_API, STAGE)
