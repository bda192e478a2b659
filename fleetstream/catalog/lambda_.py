"""Lambda resource types (module named lambda_ because lambda is a keyword)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, Relation, TagStyle
from fleetstream.catalog.entry import RelationName as R

FUNCTION = CatalogEntry(
    type_name="lambda.function",
    operation="ListFunctions",
    result_path="Functions[]",
    id_path="FunctionName",
    arn_path="FunctionArn",
    arn_template="",
    name_path="FunctionName",
    tag_style=TagStyle.MAP,
    details=(
        Detail(
            "ListTags",
            {"Resource": "FunctionArn"},
            "Tags",
            into="Tags",
            absent_codes=("ResourceNotFoundException",),
            required=True,
        ),
    ),
    # Environment variables routinely hold credentials: keep the names, hash the values.
    sensitive_fields=("Environment.Variables",),
    # ListFunctions takes no names: a refresh pages the functions and keeps the named ones.
    refresh=Refresh(
        events=(
            EventRule(
                "lambda.amazonaws.com",
                (
                    "CreateFunction",
                    "DeleteFunction",
                    "UpdateFunctionConfiguration",
                    "UpdateFunctionCode",
                    "PublishVersion",
                ),
                "requestParameters.functionName",
            ),
        ),
    ),
    relations=(
        Relation(R.IS_ASSOCIATED_WITH, "Role", "iam.role"),
        Relation(R.IS_CONTAINED_IN, "VpcConfig.SubnetIds", "ec2.subnet"),
        Relation(R.IS_CONTAINED_IN, "VpcConfig.VpcId", "ec2.vpc"),
        Relation(R.IS_ASSOCIATED_WITH, "VpcConfig.SecurityGroupIds", "ec2.security_group"),
    ),
)

EVENT_SOURCE_MAPPING = CatalogEntry(
    type_name="lambda.event_source_mapping",
    operation="ListEventSourceMappings",
    result_path="EventSourceMappings[]",
    id_path="UUID",
    arn_path="EventSourceMappingArn",
    arn_template="arn:{partition}:lambda:{region}:{account_id}:event-source-mapping:{id}",
    name_path="UUID",
    tags_path=None,  # ListTags wants the ARN; the list call has no tags
    tag_style=TagStyle.NONE,
    volatile_fields=("LastProcessingResult", "State", "StateTransitionReason", "LastModified"),
    relations=(Relation(R.IS_ASSOCIATED_WITH, "FunctionArn", "lambda.function"),),
    refresh=Refresh(
        events=(
            EventRule(
                "lambda.amazonaws.com",
                ("CreateEventSourceMapping",),
                "responseElements.uUID",
            ),
            EventRule(
                "lambda.amazonaws.com",
                ("UpdateEventSourceMapping", "DeleteEventSourceMapping"),
                "requestParameters.uUID",
            ),
        ),
    ),
)

LAYER = CatalogEntry(
    type_name="lambda.layer",
    operation="ListLayers",
    result_path="Layers[]",
    id_path="LayerName",
    arn_path="LayerArn",
    arn_template="arn:{partition}:lambda:{region}:{account_id}:layer:{id}",
    name_path="LayerName",
    tags_path=None,  # layers take no tags
    tag_style=TagStyle.NONE,
)

ENTRIES = (FUNCTION, EVENT_SOURCE_MAPPING, LAYER)
