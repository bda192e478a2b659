"""KMS resource types (customer managed keys only)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, TagStyle

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

ENTRIES = (KEY,)
