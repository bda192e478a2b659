"""Glue resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Relation, TagStyle
from fleetstream.catalog.entry import RelationName as R

JOB = CatalogEntry(
    type_name="glue.job",
    operation="GetJobs",
    result_path="Jobs[]",
    id_path="Name",
    arn_template="arn:{partition}:glue:{region}:{account_id}:job/{id}",
    name_path="Name",
    # GetTags wants the ARN, which GetJobs does not return.
    tags_path=None,
    tag_style=TagStyle.NONE,
    # Job arguments carry connection strings and passwords often enough; the source control
    # token is a Git provider's credential.
    sensitive_fields=(
        "DefaultArguments",
        "NonOverridableArguments",
        "SourceControlDetails.AuthToken",
    ),
    relations=(Relation(R.IS_ASSOCIATED_WITH, "Role", "iam.role"),),
)

DATABASE = CatalogEntry(
    type_name="glue.database",
    operation="GetDatabases",
    result_path="DatabaseList[]",
    id_path="Name",
    arn_template="arn:{partition}:glue:{region}:{account_id}:database/{id}",
    name_path="Name",
    tags_path=None,  # GetTags wants the ARN, which GetDatabases does not return
    tag_style=TagStyle.NONE,
)

CONNECTION = CatalogEntry(
    type_name="glue.connection",
    operation="GetConnections",
    # Never the password in the first place; redaction covers what else the properties hold.
    request_params={"HidePassword": True},
    result_path="ConnectionList[]",
    id_path="Name",
    arn_template="arn:{partition}:glue:{region}:{account_id}:connection/{id}",
    name_path="Name",
    tags_path=None,  # GetTags wants the ARN, which GetConnections does not return
    tag_style=TagStyle.NONE,
    # HidePassword covers PASSWORD in ConnectionProperties only: the other property maps and
    # the OAuth token request parameters can hold credentials as well.
    sensitive_fields=(
        "ConnectionProperties",
        "AthenaProperties",
        "PythonProperties",
        "SparkProperties",
        "AuthenticationConfiguration.OAuth2Properties.TokenUrlParametersMap",
    ),
    volatile_fields=("LastConnectionValidationTime",),
    relations=(
        Relation(R.IS_CONTAINED_IN, "PhysicalConnectionRequirements.SubnetId", "ec2.subnet"),
        Relation(
            R.IS_ASSOCIATED_WITH,
            "PhysicalConnectionRequirements.SecurityGroupIdList",
            "ec2.security_group",
        ),
    ),
)

ENTRIES = (JOB, DATABASE, CONNECTION)
