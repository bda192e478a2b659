"""Cognito identity pool resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, TagStyle

IDENTITY_POOL = CatalogEntry(
    type_name="cognito-identity.identity_pool",
    operation="ListIdentityPools",
    request_params={"MaxResults": 60},  # required; the engine replaces it with the page size
    result_path="IdentityPools[]",
    id_path="IdentityPoolId",
    arn_template="arn:{partition}:cognito-identity:{region}:{account_id}:identitypool/{id}",
    name_path="IdentityPoolName",
    tags_path="IdentityPoolTags",
    tag_style=TagStyle.MAP,
    details=(
        Detail(
            "DescribeIdentityPool",
            {"IdentityPoolId": "IdentityPoolId"},
            "IdentityPoolTags",
            into="IdentityPoolTags",
            # The configuration, member by member: the response's root holds ResponseMetadata.
            extra={
                name: name
                for name in (
                    "AllowUnauthenticatedIdentities",
                    "AllowClassicFlow",
                    "SupportedLoginProviders",
                    "DeveloperProviderName",
                    "OpenIdConnectProviderARNs",
                    "CognitoIdentityProviders",
                    "SamlProviderARNs",
                )
            },
            absent_codes=("ResourceNotFoundException",),
            required=True,
        ),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                "cognito-identity.amazonaws.com",
                ("UpdateIdentityPool", "DeleteIdentityPool"),
                "requestParameters.identityPoolId",
            ),
        ),
    ),
)

ENTRIES = (IDENTITY_POOL,)
