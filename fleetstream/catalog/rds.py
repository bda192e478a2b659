"""RDS resource types (also DocumentDB and Neptune, which share the RDS API)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, Relation
from fleetstream.catalog.entry import RelationName as R

_RDS = "rds.amazonaws.com"

# RDS rejects MaxRecords outside 20..100, which its model does not declare.
_PAGE = (20, 100)

DB_INSTANCE = CatalogEntry(
    type_name="rds.db_instance",
    operation="DescribeDBInstances",
    result_path="DBInstances[]",
    id_path="DBInstanceIdentifier",
    arn_path="DBInstanceArn",
    arn_template="arn:{partition}:rds:{region}:{account_id}:db:{id}",
    name_path="DBInstanceIdentifier",
    tags_path="TagList",
    page_size_limits=_PAGE,
    volatile_fields=("LatestRestorableTime",),
    # AWS masks a pending master password; hashed all the same should it ever come plain.
    sensitive_fields=("PendingModifiedValues.MasterUserPassword",),
    refresh=Refresh(
        events=(
            EventRule(
                _RDS,
                (
                    "CreateDBInstance",
                    "DeleteDBInstance",
                    "ModifyDBInstance",
                    "RebootDBInstance",
                    "StartDBInstance",
                    "StopDBInstance",
                ),
                "requestParameters.dBInstanceIdentifier",
            ),
        ),
        filter_name="db-instance-id",
    ),
    relations=(
        Relation(
            R.IS_ASSOCIATED_WITH, "VpcSecurityGroups[].VpcSecurityGroupId", "ec2.security_group"
        ),
        Relation(R.IS_CONTAINED_IN, "DBSubnetGroup.Subnets[].SubnetIdentifier", "ec2.subnet"),
        Relation(R.IS_CONTAINED_IN, "DBSubnetGroup.VpcId", "ec2.vpc"),
        Relation(R.IS_CONTAINED_IN, "DBClusterIdentifier", "rds.db_cluster"),
    ),
)

DB_CLUSTER = CatalogEntry(
    type_name="rds.db_cluster",
    operation="DescribeDBClusters",
    result_path="DBClusters[]",
    id_path="DBClusterIdentifier",
    arn_path="DBClusterArn",
    arn_template="arn:{partition}:rds:{region}:{account_id}:cluster:{id}",
    name_path="DBClusterIdentifier",
    tags_path="TagList",
    page_size_limits=_PAGE,
    volatile_fields=("LatestRestorableTime", "EarliestRestorableTime"),
    # AWS masks a pending master password; hashed all the same should it ever come plain.
    sensitive_fields=("PendingModifiedValues.MasterUserPassword",),
    refresh=Refresh(
        events=(
            EventRule(
                _RDS,
                (
                    "CreateDBCluster",
                    "DeleteDBCluster",
                    "ModifyDBCluster",
                    "StartDBCluster",
                    "StopDBCluster",
                ),
                "requestParameters.dBClusterIdentifier",
            ),
        ),
        filter_name="db-cluster-id",
    ),
    relations=(
        Relation(
            R.IS_ASSOCIATED_WITH, "VpcSecurityGroups[].VpcSecurityGroupId", "ec2.security_group"
        ),
    ),
)

DB_SNAPSHOT = CatalogEntry(
    type_name="rds.db_snapshot",
    operation="DescribeDBSnapshots",
    result_path="DBSnapshots[]",
    id_path="DBSnapshotIdentifier",
    arn_path="DBSnapshotArn",
    arn_template="arn:{partition}:rds:{region}:{account_id}:snapshot:{id}",
    name_path="DBSnapshotIdentifier",
    tags_path="TagList",
    page_size_limits=_PAGE,
    volatile_fields=("PercentProgress",),
)

DB_CLUSTER_SNAPSHOT = CatalogEntry(
    type_name="rds.db_cluster_snapshot",
    operation="DescribeDBClusterSnapshots",
    result_path="DBClusterSnapshots[]",
    id_path="DBClusterSnapshotIdentifier",
    arn_path="DBClusterSnapshotArn",
    arn_template="arn:{partition}:rds:{region}:{account_id}:cluster-snapshot:{id}",
    name_path="DBClusterSnapshotIdentifier",
    tags_path="TagList",
    page_size_limits=_PAGE,
    volatile_fields=("PercentProgress",),
)


def _tags(arn_path: str) -> Detail:
    # The describe output of these types has no TagList.
    return Detail(
        "ListTagsForResource",
        {"ResourceName": arn_path},
        "TagList",
        into="TagList",
        absent_codes=(
            "DBSubnetGroupNotFoundFault",
            "SubscriptionNotFound",
            "DBParameterGroupNotFound",
            "OptionGroupNotFoundFault",
            "DBProxyNotFoundFault",
        ),
    )


DB_SUBNET_GROUP = CatalogEntry(
    type_name="rds.db_subnet_group",
    operation="DescribeDBSubnetGroups",
    result_path="DBSubnetGroups[]",
    id_path="DBSubnetGroupName",
    arn_path="DBSubnetGroupArn",
    arn_template="arn:{partition}:rds:{region}:{account_id}:subgrp:{id}",
    name_path="DBSubnetGroupName",
    tags_path="TagList",
    page_size_limits=_PAGE,
    details=(_tags("DBSubnetGroupArn"),),
    relations=(
        Relation(R.IS_CONTAINED_IN, "VpcId", "ec2.vpc"),
        Relation(R.CONTAINS, "Subnets[].SubnetIdentifier", "ec2.subnet"),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                _RDS,
                ("CreateDBSubnetGroup", "ModifyDBSubnetGroup", "DeleteDBSubnetGroup"),
                "requestParameters.dBSubnetGroupName",
            ),
        ),
    ),
)

EVENT_SUBSCRIPTION = CatalogEntry(
    type_name="rds.event_subscription",
    operation="DescribeEventSubscriptions",
    result_path="EventSubscriptionsList[]",
    id_path="CustSubscriptionId",
    arn_path="EventSubscriptionArn",
    arn_template="arn:{partition}:rds:{region}:{account_id}:es:{id}",
    name_path="CustSubscriptionId",
    tags_path="TagList",
    page_size_limits=_PAGE,
    details=(_tags("EventSubscriptionArn"),),
    relations=(Relation(R.IS_ASSOCIATED_WITH, "SnsTopicArn", "sns.topic"),),
    refresh=Refresh(
        events=(
            EventRule(
                _RDS,
                (
                    "CreateEventSubscription",
                    "ModifyEventSubscription",
                    "DeleteEventSubscription",
                    "AddSourceIdentifierToSubscription",
                    "RemoveSourceIdentifierFromSubscription",
                ),
                "requestParameters.subscriptionName",
            ),
        ),
    ),
)

DB_PARAMETER_GROUP = CatalogEntry(
    type_name="rds.db_parameter_group",
    operation="DescribeDBParameterGroups",
    result_path="DBParameterGroups[]",
    id_path="DBParameterGroupName",
    arn_path="DBParameterGroupArn",
    arn_template="arn:{partition}:rds:{region}:{account_id}:pg:{id}",
    name_path="DBParameterGroupName",
    tags_path="TagList",
    page_size_limits=_PAGE,
    details=(_tags("DBParameterGroupArn"),),
    refresh=Refresh(
        events=(
            EventRule(
                _RDS,
                ("CreateDBParameterGroup", "ModifyDBParameterGroup", "DeleteDBParameterGroup"),
                "requestParameters.dBParameterGroupName",
            ),
        ),
    ),
)

DB_CLUSTER_PARAMETER_GROUP = CatalogEntry(
    type_name="rds.db_cluster_parameter_group",
    operation="DescribeDBClusterParameterGroups",
    result_path="DBClusterParameterGroups[]",
    id_path="DBClusterParameterGroupName",
    arn_path="DBClusterParameterGroupArn",
    arn_template="arn:{partition}:rds:{region}:{account_id}:cluster-pg:{id}",
    name_path="DBClusterParameterGroupName",
    tags_path="TagList",
    page_size_limits=_PAGE,
    details=(_tags("DBClusterParameterGroupArn"),),
    refresh=Refresh(
        events=(
            EventRule(
                _RDS,
                (
                    "CreateDBClusterParameterGroup",
                    "ModifyDBClusterParameterGroup",
                    "DeleteDBClusterParameterGroup",
                ),
                "requestParameters.dBClusterParameterGroupName",
            ),
        ),
    ),
)

OPTION_GROUP = CatalogEntry(
    type_name="rds.option_group",
    operation="DescribeOptionGroups",
    result_path="OptionGroupsList[]",
    id_path="OptionGroupName",
    arn_path="OptionGroupArn",
    arn_template="arn:{partition}:rds:{region}:{account_id}:og:{id}",
    name_path="OptionGroupName",
    tags_path="TagList",
    page_size_limits=_PAGE,
    details=(_tags("OptionGroupArn"),),
    relations=(Relation(R.IS_CONTAINED_IN, "VpcId", "ec2.vpc"),),
    refresh=Refresh(
        events=(
            EventRule(
                _RDS,
                ("CreateOptionGroup", "ModifyOptionGroup", "DeleteOptionGroup"),
                "requestParameters.optionGroupName",
            ),
        ),
    ),
)

DB_PROXY = CatalogEntry(
    type_name="rds.db_proxy",
    operation="DescribeDBProxies",
    result_path="DBProxies[]",
    id_path="DBProxyName",
    arn_path="DBProxyArn",
    # The ARN ends in a generated id (prx-...), so it cannot be built from the name.
    arn_template="",
    name_path="DBProxyName",
    tags_path="TagList",
    page_size_limits=_PAGE,
    details=(_tags("DBProxyArn"),),
    volatile_fields=("Status", "UpdatedDate"),
    relations=(
        Relation(R.IS_CONTAINED_IN, "VpcSubnetIds", "ec2.subnet"),
        Relation(R.IS_ASSOCIATED_WITH, "VpcSecurityGroupIds", "ec2.security_group"),
        Relation(R.IS_ASSOCIATED_WITH, "RoleArn", "iam.role"),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                _RDS,
                ("CreateDBProxy", "ModifyDBProxy", "DeleteDBProxy"),
                "requestParameters.dBProxyName",
            ),
        ),
    ),
)

ENTRIES = (
    DB_INSTANCE,
    DB_CLUSTER,
    DB_SNAPSHOT,
    DB_CLUSTER_SNAPSHOT,
    DB_SUBNET_GROUP,
    EVENT_SUBSCRIPTION,
    DB_PARAMETER_GROUP,
    DB_CLUSTER_PARAMETER_GROUP,
    OPTION_GROUP,
    DB_PROXY,
)
