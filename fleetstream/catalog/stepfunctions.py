"""Step Functions resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, TagStyle

STATE_MACHINE = CatalogEntry(
    type_name="stepfunctions.state_machine",
    operation="ListStateMachines",
    result_path="stateMachines[]",
    id_path="name",
    arn_path="stateMachineArn",
    arn_template="",
    name_path="name",
    tags_path="tags",
    tag_style=TagStyle.LOWER_KEY_VALUE_LIST,
    details=(
        Detail(
            "ListTagsForResource",
            {"resourceArn": "stateMachineArn"},
            "tags",
            into="tags",
            absent_codes=("ResourceNotFound",),
        ),
    ),
)

ACTIVITY = CatalogEntry(
    type_name="stepfunctions.activity",
    operation="ListActivities",
    result_path="activities[]",
    id_path="name",
    arn_path="activityArn",
    arn_template="arn:{partition}:states:{region}:{account_id}:activity:{id}",
    name_path="name",
    tags_path="tags",
    tag_style=TagStyle.LOWER_KEY_VALUE_LIST,
    details=(
        Detail(
            "ListTagsForResource",
            {"resourceArn": "activityArn"},
            "tags",
            into="tags",
            absent_codes=("ResourceNotFound",),
        ),
    ),
)

ENTRIES = (STATE_MACHINE, ACTIVITY)
