"""Elastic Beanstalk resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh

_EB = "elasticbeanstalk.amazonaws.com"


def _tags(arn_path: str) -> Detail:
    # The describe calls omit tags.
    return Detail(
        "ListTagsForResource",
        {"ResourceArn": arn_path},
        "ResourceTags",
        into="Tags",
        absent_codes=("ResourceNotFoundException",),
    )


APPLICATION = CatalogEntry(
    type_name="elasticbeanstalk.application",
    operation="DescribeApplications",
    paginated=False,  # DescribeApplications returns every application at once
    result_path="Applications[]",
    id_path="ApplicationName",
    arn_path="ApplicationArn",
    arn_template="arn:{partition}:elasticbeanstalk:{region}:{account_id}:application/{id}",
    name_path="ApplicationName",
    details=(_tags("ApplicationArn"),),
    refresh=Refresh(
        events=(
            EventRule(
                _EB,
                ("CreateApplication", "UpdateApplication", "DeleteApplication"),
                "requestParameters.applicationName",
            ),
        ),
        ids_param="ApplicationNames",
    ),
)

ENVIRONMENT = CatalogEntry(
    type_name="elasticbeanstalk.environment",
    operation="DescribeEnvironments",
    request_params={"IncludeDeleted": False},
    result_path="Environments[]",
    id_path="EnvironmentId",
    arn_path="EnvironmentArn",
    arn_template="",  # the ARN names the application and the environment, not the id
    name_path="EnvironmentName",
    details=(_tags("EnvironmentArn"),),
    volatile_fields=("Status", "Health", "HealthStatus", "AbortableOperationInProgress"),
    refresh=Refresh(
        events=(
            EventRule(
                _EB,
                ("UpdateEnvironment", "TerminateEnvironment", "RebuildEnvironment"),
                "requestParameters.environmentId",
            ),
        ),
        ids_param="EnvironmentIds",
    ),
)

ENTRIES = (APPLICATION, ENVIRONMENT)
