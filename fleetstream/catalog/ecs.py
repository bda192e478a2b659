"""ECS resource types: clusters, services (listed per cluster), task definitions."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, Parent, Relation, TagStyle
from fleetstream.catalog.entry import RelationName as R

CLUSTER = CatalogEntry(
    type_name="ecs.cluster",
    operation="ListClusters",
    result_path="clusterArns",
    item_key="clusterArn",
    id_path="clusterName",
    arn_path="clusterArn",
    arn_template="",
    name_path="clusterName",
    tags_path="tags",
    tag_style=TagStyle.LOWER_KEY_VALUE_LIST,
    details=(
        Detail(
            "DescribeClusters",
            {"clusters": "clusterArn"},
            "clusters",
            static_params={"include": ["TAGS", "SETTINGS"]},
            batch_param="clusters",
            batch_size=100,
            match=("clusterArn", "clusterArn"),
            required=True,
        ),
    ),
    volatile_fields=(
        "runningTasksCount",
        "pendingTasksCount",
        "activeServicesCount",
        "registeredContainerInstancesCount",
        "statistics",
    ),
)

SERVICE = CatalogEntry(
    type_name="ecs.service",
    operation="ListServices",
    parent=Parent("ListClusters", "clusterArns", "@", param="cluster", into="clusterArn"),
    result_path="serviceArns",
    item_key="serviceArn",
    id_path="serviceArn",  # service names are unique per cluster only
    arn_path="serviceArn",
    arn_template="",
    name_path="serviceName",
    tags_path="tags",
    tag_style=TagStyle.LOWER_KEY_VALUE_LIST,
    details=(
        Detail(
            "DescribeServices",
            {"cluster": "clusterArn", "services": "serviceArn"},
            "services",
            static_params={"include": ["TAGS"]},
            batch_param="services",
            batch_size=10,  # DescribeServices takes at most 10 services
            match=("serviceArn", "serviceArn"),
            required=True,
        ),
    ),
    volatile_fields=(
        "events",
        "runningCount",
        "pendingCount",
        "deployments[].runningCount",
        "deployments[].pendingCount",
        "deployments[].failedTasks",
        "deployments[].updatedAt",
    ),
    relations=(
        Relation(R.IS_CONTAINED_IN, "clusterArn", "ecs.cluster"),
        Relation(R.IS_ASSOCIATED_WITH, "taskDefinition", "ecs.task_definition"),
        Relation(R.IS_ASSOCIATED_WITH, "loadBalancers[].targetGroupArn", "elbv2.target_group"),
        Relation(
            R.IS_CONTAINED_IN, "networkConfiguration.awsvpcConfiguration.subnets", "ec2.subnet"
        ),
        Relation(
            R.IS_ASSOCIATED_WITH,
            "networkConfiguration.awsvpcConfiguration.securityGroups",
            "ec2.security_group",
        ),
        Relation(R.IS_ASSOCIATED_WITH, "roleArn", "iam.role"),
    ),
)

TASK_DEFINITION = CatalogEntry(
    type_name="ecs.task_definition",
    operation="ListTaskDefinitions",
    request_params={"status": "ACTIVE"},
    result_path="taskDefinitionArns",
    item_key="taskDefinitionArn",
    id_path="taskDefinitionArn",  # family:revision, unique per account and region
    arn_path="taskDefinitionArn",
    arn_template="",
    name_path="family",
    tags_path="tags",
    tag_style=TagStyle.LOWER_KEY_VALUE_LIST,
    details=(
        Detail(
            "DescribeTaskDefinition",
            {"taskDefinition": "taskDefinitionArn"},
            "taskDefinition",
            static_params={"include": ["TAGS"]},
            extra={"tags": "tags"},
            required=True,
        ),
    ),
    # Container environments routinely hold credentials; secrets name where they live.
    sensitive_fields=(
        "containerDefinitions[].environment[].value",
        "containerDefinitions[].secrets[].valueFrom",
    ),
    relations=(
        Relation(R.IS_ASSOCIATED_WITH, "taskRoleArn", "iam.role"),
        Relation(R.IS_ASSOCIATED_WITH, "executionRoleArn", "iam.role"),
    ),
)

CONTAINER_INSTANCE = CatalogEntry(
    type_name="ecs.container_instance",
    operation="ListContainerInstances",
    parent=Parent("ListClusters", "clusterArns", "@", param="cluster", into="clusterArn"),
    result_path="containerInstanceArns",
    item_key="containerInstanceArn",
    id_path="containerInstanceArn",  # the ARN is the only name a container instance has
    arn_path="containerInstanceArn",
    arn_template="",
    name_path="ec2InstanceId",
    tags_path="tags",
    tag_style=TagStyle.LOWER_KEY_VALUE_LIST,
    details=(
        Detail(
            "DescribeContainerInstances",
            {"cluster": "clusterArn", "containerInstances": "containerInstanceArn"},
            "containerInstances",
            static_params={"include": ["TAGS"]},
            batch_param="containerInstances",
            batch_size=100,  # DescribeContainerInstances takes at most 100
            match=("containerInstanceArn", "containerInstanceArn"),
            required=True,
        ),
    ),
    volatile_fields=(
        "remainingResources",
        "runningTasksCount",
        "pendingTasksCount",
        "agentConnected",
        "agentUpdateStatus",
        "healthStatus",
        "versionInfo",
    ),
    relations=(
        Relation(R.IS_CONTAINED_IN, "clusterArn", "ecs.cluster"),
        Relation(R.IS_ASSOCIATED_WITH, "ec2InstanceId", "ec2.instance"),
    ),
)

TASK = CatalogEntry(
    type_name="ecs.task",
    operation="ListTasks",
    parent=Parent("ListClusters", "clusterArns", "@", param="cluster", into="clusterArn"),
    result_path="taskArns",
    item_key="taskArn",
    id_path="taskArn",  # the ARN (with its generated id) is the only name a task has
    arn_path="taskArn",
    arn_template="",
    name_path="group",
    tags_path="tags",
    tag_style=TagStyle.LOWER_KEY_VALUE_LIST,
    details=(
        Detail(
            "DescribeTasks",
            {"cluster": "clusterArn", "tasks": "taskArn"},
            "tasks",
            static_params={"include": ["TAGS"]},
            batch_param="tasks",
            batch_size=100,  # DescribeTasks takes at most 100 tasks
            match=("taskArn", "taskArn"),
            required=True,
        ),
    ),
    # Overrides given to RunTask carry environment values as plain text.
    sensitive_fields=(
        "overrides.containerOverrides[].environment",
        "overrides.containerOverrides[].command",
    ),
    volatile_fields=(
        "lastStatus",
        "healthStatus",
        "connectivity",
        "connectivityAt",
        "pullStartedAt",
        "pullStoppedAt",
        "startedAt",
        "stoppingAt",
        "stoppedAt",
        "executionStoppedAt",
        "stopCode",
        "stoppedReason",
        "containers",
        "attachments",
        "version",
    ),
    relations=(
        Relation(R.IS_CONTAINED_IN, "clusterArn", "ecs.cluster"),
        Relation(R.IS_ASSOCIATED_WITH, "taskDefinitionArn", "ecs.task_definition"),
        Relation(R.IS_CONTAINED_IN, "containerInstanceArn", "ecs.container_instance"),
    ),
)

ENTRIES = (CLUSTER, SERVICE, TASK_DEFINITION, CONTAINER_INSTANCE, TASK)
