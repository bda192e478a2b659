"""DynamoDB resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, Relation, TagStyle
from fleetstream.catalog.entry import RelationName as R

TABLE = CatalogEntry(
    type_name="dynamodb.table",
    operation="ListTables",
    result_path="TableNames",
    item_key="TableName",
    id_path="TableName",
    arn_path="TableArn",
    arn_template="arn:{partition}:dynamodb:{region}:{account_id}:table/{id}",
    name_path="TableName",
    details=(
        Detail(
            "DescribeTable",
            {"TableName": "TableName"},
            "Table",
            absent_codes=("ResourceNotFoundException",),
            required=True,
        ),
        Detail(
            "ListTagsOfResource",
            {"ResourceArn": "TableArn"},
            "Tags",
            into="Tags",
            absent_codes=("ResourceNotFoundException",),
        ),
    ),
    volatile_fields=(
        "ItemCount",
        "TableSizeBytes",
        "GlobalSecondaryIndexes[].ItemCount",
        "GlobalSecondaryIndexes[].IndexSizeBytes",
        "LocalSecondaryIndexes[].ItemCount",
        "LocalSecondaryIndexes[].IndexSizeBytes",
    ),
    refresh=Refresh(
        events=(
            EventRule(
                "dynamodb.amazonaws.com",
                ("CreateTable", "DeleteTable", "UpdateTable"),
                "requestParameters.tableName",
            ),
        ),
    ),
)

BACKUP = CatalogEntry(
    type_name="dynamodb.backup",
    operation="ListBackups",
    result_path="BackupSummaries[]",
    id_path="BackupArn",  # backup names repeat; the ARN is the backup's only unique name
    arn_path="BackupArn",
    arn_template="",
    name_path="BackupName",
    tags_path=None,  # backups take no tags
    tag_style=TagStyle.NONE,
    volatile_fields=("BackupStatus",),
    relations=(Relation(R.IS_ASSOCIATED_WITH, "TableArn", "dynamodb.table"),),
)

ENTRIES = (TABLE, BACKUP)
