"""KMS resource types (customer managed keys only)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, Relation, TagStyle
from fleetstream.catalog.entry import RelationName as R

KEY = CatalogEntry(
    type_name="kms.key",
    operation="ListKeys",
    result_path="Keys[]",
    id_path="KeyId",
    arn_path="KeyArn",
    arn_template="arn:{partition}:kms:{region}:{account_id}:key/{id}",
    name_path="KeyMetadata.Description",
    tags_path="Tags",
    tag_style=TagStyle.TAG_KEY_VALUE_LIST,
    details=(
        Detail(
            "DescribeKey",
            {"KeyId": "KeyId"},
            "KeyMetadata",
            into="KeyMetadata",
            absent_codes=("NotFoundException",),
            required=True,
            # AWS managed keys (aws/s3, ...) are not the account's inventory.
            keep_if="KeyMetadata.KeyManager == 'CUSTOMER'",
        ),
        Detail(
            "ListResourceTags",
            {"KeyId": "KeyId"},
            "Tags",
            into="Tags",
            absent_codes=("NotFoundException",),
        ),
    ),
)

ALIAS = CatalogEntry(
    type_name="kms.alias",
    operation="ListAliases",
    # AWS managed aliases (alias/aws/s3, ...) are not the account's inventory.
    result_path="Aliases[?!starts_with(AliasName, 'alias/aws/')]",
    id_path="AliasName",
    arn_path="AliasArn",
    arn_template="arn:{partition}:kms:{region}:{account_id}:{id}",
    name_path="AliasName",
    tags_path=None,  # aliases take no tags
    tag_style=TagStyle.NONE,
    relations=(Relation(R.IS_ASSOCIATED_WITH, "TargetKeyId", "kms.key"),),
    refresh=Refresh(
        events=(
            EventRule(
                "kms.amazonaws.com",
                ("CreateAlias", "UpdateAlias", "DeleteAlias"),
                "requestParameters.aliasName",
            ),
        ),
    ),
)

ENTRIES = (KEY, ALIAS)
