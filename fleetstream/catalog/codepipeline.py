"""CodePipeline resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, Relation, TagStyle
from fleetstream.catalog.entry import RelationName as R

_GONE = ("PipelineNotFoundException",)

PIPELINE = CatalogEntry(
    type_name="codepipeline.pipeline",
    operation="ListPipelines",
    result_path="pipelines[]",
    id_path="name",
    arn_path="metadata.pipelineArn",
    arn_template="arn:{partition}:codepipeline:{region}:{account_id}:{id}",
    name_path="name",
    tags_path="tags",
    tag_style=TagStyle.LOWER_KEY_VALUE_LIST,
    details=(
        Detail(
            "GetPipeline",
            {"name": "name"},
            "pipeline",
            into="pipeline",
            extra={"metadata": "metadata"},
            absent_codes=_GONE,
            required=True,
        ),
        Detail(
            "ListTagsForResource",
            {"resourceArn": "metadata.pipelineArn"},
            "tags",
            into="tags",
            absent_codes=(*_GONE, "ResourceNotFoundException"),
        ),
    ),
    # A PLAINTEXT action variable is often a credential; SECRETS_MANAGER ones name a secret.
    sensitive_fields=("pipeline.stages[].actions[].environmentVariables[].value",),
    relations=(Relation(R.IS_ASSOCIATED_WITH, "pipeline.roleArn", "iam.role"),),
    refresh=Refresh(
        events=(
            EventRule(
                "codepipeline.amazonaws.com",
                ("UpdatePipeline", "DeletePipeline"),
                "requestParameters.pipeline.name || requestParameters.name",
            ),
        ),
    ),
)

ENTRIES = (PIPELINE,)
