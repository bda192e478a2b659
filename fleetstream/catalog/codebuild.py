"""CodeBuild resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, Relation, TagStyle
from fleetstream.catalog.entry import RelationName as R

PROJECT = CatalogEntry(
    type_name="codebuild.project",
    operation="ListProjects",
    result_path="projects",
    item_key="name",
    id_path="name",
    arn_path="arn",
    arn_template="arn:{partition}:codebuild:{region}:{account_id}:project/{id}",
    name_path="name",
    tags_path="tags",
    tag_style=TagStyle.LOWER_KEY_VALUE_LIST,
    details=(
        # The only detail call CodeBuild has: a batched read of up to 100 projects.
        Detail(
            "BatchGetProjects",
            {"names": "name"},
            "projects",
            batch_param="names",
            batch_size=100,
            match=("name", "name"),
            required=True,
        ),
    ),
    # PLAINTEXT environment variables are where build secrets end up; the webhook secret
    # signs GitHub's deliveries; the sources carry the repository's OAuth/token reference.
    sensitive_fields=(
        "environment.environmentVariables[].value",
        "environment.registryCredential.credential",
        "webhook.secret",
        "source.auth.resource",
        "secondarySources[].auth.resource",
    ),
    volatile_fields=("lastModified",),
    relations=(
        Relation(R.IS_ASSOCIATED_WITH, "serviceRole", "iam.role"),
        Relation(R.IS_CONTAINED_IN, "vpcConfig.subnets", "ec2.subnet"),
        Relation(R.IS_ASSOCIATED_WITH, "vpcConfig.securityGroupIds", "ec2.security_group"),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                "codebuild.amazonaws.com",
                ("CreateProject", "UpdateProject", "DeleteProject"),
                "requestParameters.name",
            ),
        ),
    ),
)

ENTRIES = (PROJECT,)
