"""AWS Organizations resource types (seen from the management or a delegated account)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, EventRule, Refresh, TagStyle

ACCOUNT = CatalogEntry(
    type_name="organizations.account",
    operation="ListAccounts",
    result_path="Accounts[]",
    id_path="Id",
    arn_path="Arn",
    arn_template="",  # the ARN holds the organization id, which the item does not
    name_path="Name",
    global_resource=True,
    tags_path=None,  # ListTagsForResource is one call per account; not worth it per sweep
    tag_style=TagStyle.NONE,
    volatile_fields=("Status", "State"),
    refresh=Refresh(
        events=(
            EventRule(
                "organizations.amazonaws.com",
                ("MoveAccount", "CloseAccount", "RemoveAccountFromOrganization"),
                "requestParameters.accountId",
            ),
        ),
    ),
)

ENTRIES = (ACCOUNT,)
