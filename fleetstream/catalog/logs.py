"""CloudWatch Logs resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, TagStyle

LOG_GROUP = CatalogEntry(
    type_name="logs.log_group",
    operation="DescribeLogGroups",
    result_path="logGroups[]",
    id_path="logGroupName",
    arn_path="logGroupArn",  # without the ":*" suffix that `arn` carries
    arn_template="arn:{partition}:logs:{region}:{account_id}:log-group:{id}",
    name_path="logGroupName",
    tags_path="tags",
    tag_style=TagStyle.MAP,
    details=(
        Detail(
            "ListTagsForResource",
            {"resourceArn": "logGroupArn"},
            "tags",
            into="tags",
            absent_codes=("ResourceNotFoundException",),
        ),
    ),
    volatile_fields=("storedBytes",),
)

ENTRIES = (LOG_GROUP,)
