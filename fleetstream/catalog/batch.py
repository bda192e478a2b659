"""AWS Batch resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, EventRule, Refresh, Relation, TagStyle
from fleetstream.catalog.entry import RelationName as R

_BATCH = "batch.amazonaws.com"

JOB_QUEUE = CatalogEntry(
    type_name="batch.job_queue",
    operation="DescribeJobQueues",
    result_path="jobQueues[]",
    id_path="jobQueueName",
    arn_path="jobQueueArn",
    arn_template="arn:{partition}:batch:{region}:{account_id}:job-queue/{id}",
    name_path="jobQueueName",
    tags_path="tags",
    tag_style=TagStyle.MAP,
    volatile_fields=("status", "statusReason"),
    relations=(
        Relation(
            R.IS_ASSOCIATED_WITH,
            "computeEnvironmentOrder[].computeEnvironment",
            "batch.compute_environment",
        ),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                _BATCH,
                ("CreateJobQueue", "UpdateJobQueue", "DeleteJobQueue"),
                "requestParameters.jobQueueName || requestParameters.jobQueue",
            ),
        ),
        ids_param="jobQueues",
    ),
)

COMPUTE_ENVIRONMENT = CatalogEntry(
    type_name="batch.compute_environment",
    operation="DescribeComputeEnvironments",
    result_path="computeEnvironments[]",
    id_path="computeEnvironmentName",
    arn_path="computeEnvironmentArn",
    arn_template="arn:{partition}:batch:{region}:{account_id}:compute-environment/{id}",
    name_path="computeEnvironmentName",
    tags_path="tags",
    tag_style=TagStyle.MAP,
    volatile_fields=("status", "statusReason", "computeResources.desiredvCpus"),
    relations=(
        Relation(R.IS_CONTAINED_IN, "computeResources.subnets", "ec2.subnet"),
        Relation(R.IS_ASSOCIATED_WITH, "computeResources.securityGroupIds", "ec2.security_group"),
        Relation(R.IS_ASSOCIATED_WITH, "serviceRole", "iam.role"),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                _BATCH,
                (
                    "CreateComputeEnvironment",
                    "UpdateComputeEnvironment",
                    "DeleteComputeEnvironment",
                ),
                "requestParameters.computeEnvironmentName || requestParameters.computeEnvironment",
            ),
        ),
        ids_param="computeEnvironments",
    ),
)

ENTRIES = (JOB_QUEUE, COMPUTE_ENVIRONMENT)
