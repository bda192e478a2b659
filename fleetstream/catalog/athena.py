"""Athena resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, EventRule, Pagination, Refresh, TagStyle

_ATHENA = "athena.amazonaws.com"

WORK_GROUP = CatalogEntry(
    type_name="athena.work_group",
    operation="ListWorkGroups",
    # ListWorkGroups returns NextToken but botocore has no paginator for it.
    pagination=Pagination("NextToken", "NextToken", "WorkGroups", limit_key="MaxResults"),
    result_path="WorkGroups[]",
    id_path="Name",
    arn_template="arn:{partition}:athena:{region}:{account_id}:workgroup/{id}",
    name_path="Name",
    tags_path=None,  # ListTagsForResource wants the ARN, which ListWorkGroups does not return
    tag_style=TagStyle.NONE,
    refresh=Refresh(
        events=(
            EventRule(
                _ATHENA,
                ("CreateWorkGroup", "UpdateWorkGroup", "DeleteWorkGroup"),
                "requestParameters.name || requestParameters.workGroup",
            ),
        ),
    ),
)

DATA_CATALOG = CatalogEntry(
    type_name="athena.data_catalog",
    operation="ListDataCatalogs",
    result_path="DataCatalogsSummary[]",
    id_path="CatalogName",
    arn_template="arn:{partition}:athena:{region}:{account_id}:datacatalog/{id}",
    name_path="CatalogName",
    tags_path=None,  # ListTagsForResource wants the ARN, which ListDataCatalogs does not return
    tag_style=TagStyle.NONE,
    volatile_fields=("Status", "Error"),
    refresh=Refresh(
        events=(
            EventRule(
                _ATHENA,
                ("CreateDataCatalog", "UpdateDataCatalog", "DeleteDataCatalog"),
                "requestParameters.name",
            ),
        ),
    ),
)

ENTRIES = (WORK_GROUP, DATA_CATALOG)
