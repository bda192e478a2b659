"""Cognito user pool resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, TagStyle

USER_POOL = CatalogEntry(
    type_name="cognito-idp.user_pool",
    operation="ListUserPools",
    request_params={"MaxResults": 60},  # required; the engine replaces it with the page size
    result_path="UserPools[]",
    id_path="Id",
    arn_path="Arn",
    arn_template="arn:{partition}:cognito-idp:{region}:{account_id}:userpool/{id}",
    name_path="Name",
    tags_path="UserPoolTags",
    tag_style=TagStyle.MAP,
    details=(
        Detail(
            "DescribeUserPool",
            {"UserPoolId": "Id"},
            "UserPool",
            absent_codes=("ResourceNotFoundException",),
            required=True,
        ),
    ),
    volatile_fields=("EstimatedNumberOfUsers",),
    refresh=Refresh(
        events=(
            EventRule(
                "cognito-idp.amazonaws.com",
                ("UpdateUserPool", "DeleteUserPool", "SetUserPoolMfaConfig"),
                "requestParameters.userPoolId",
            ),
        ),
    ),
)

ENTRIES = (USER_POOL,)
