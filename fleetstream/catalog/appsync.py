"""AppSync resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, EventRule, Refresh, TagStyle

GRAPHQL_API = CatalogEntry(
    type_name="appsync.graphql_api",
    operation="ListGraphqlApis",
    result_path="graphqlApis[]",
    id_path="apiId",
    arn_path="arn",
    arn_template="arn:{partition}:appsync:{region}:{account_id}:apis/{id}",
    name_path="name",
    tags_path="tags",
    tag_style=TagStyle.MAP,
    refresh=Refresh(
        events=(
            EventRule(
                "appsync.amazonaws.com",
                ("UpdateGraphqlApi", "DeleteGraphqlApi"),
                "requestParameters.apiId",
            ),
        ),
    ),
)

ENTRIES = (GRAPHQL_API,)
