"""Redshift (provisioned) resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, EventRule, Refresh, Relation
from fleetstream.catalog.entry import RelationName as R

_REDSHIFT = "redshift.amazonaws.com"
_ARN = "arn:{partition}:redshift:{region}:{account_id}:"
# Redshift rejects MaxRecords outside 20..100, which its model does not declare.
_PAGE = (20, 100)

CLUSTER = CatalogEntry(
    type_name="redshift.cluster",
    operation="DescribeClusters",
    result_path="Clusters[]",
    id_path="ClusterIdentifier",
    arn_template=_ARN + "cluster:{id}",
    name_path="ClusterIdentifier",
    page_size_limits=_PAGE,
    volatile_fields=(
        "ClusterStatus",
        "ClusterAvailabilityStatus",
        "ModifyStatus",
        "PendingModifiedValues",
        "NextMaintenanceWindowStartTime",
        "ExpectedNextSnapshotScheduleTime",
        "ExpectedNextSnapshotScheduleTimeStatus",
        "TotalStorageCapacityInMegaBytes",
    ),
    # AWS masks a pending master password; hashed all the same should it ever come plain.
    sensitive_fields=("PendingModifiedValues.MasterUserPassword",),
    relations=(
        Relation(R.IS_CONTAINED_IN, "VpcId", "ec2.vpc"),
        Relation(
            R.IS_ASSOCIATED_WITH, "VpcSecurityGroups[].VpcSecurityGroupId", "ec2.security_group"
        ),
        Relation(R.IS_CONTAINED_IN, "ClusterSubnetGroupName", "redshift.cluster_subnet_group"),
        Relation(R.IS_ASSOCIATED_WITH, "IamRoles[].IamRoleArn", "iam.role"),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                _REDSHIFT,
                (
                    "CreateCluster",
                    "DeleteCluster",
                    "ModifyCluster",
                    "RebootCluster",
                    "PauseCluster",
                    "ResumeCluster",
                    "ModifyClusterIamRoles",
                ),
                "requestParameters.clusterIdentifier",
            ),
        ),
    ),
)

CLUSTER_SNAPSHOT = CatalogEntry(
    type_name="redshift.cluster_snapshot",
    operation="DescribeClusterSnapshots",
    request_params={"SnapshotType": "manual"},  # automated ones rotate daily on their own
    result_path="Snapshots[]",
    id_path="SnapshotIdentifier",
    arn_template=_ARN + "snapshot:{id}",
    name_path="SnapshotIdentifier",
    page_size_limits=_PAGE,
    volatile_fields=(
        "Status",
        "CurrentBackupRateInMegaBytesPerSecond",
        "ActualIncrementalBackupSizeInMegaBytes",
        "BackupProgressInMegaBytes",
        "ElapsedTimeInSeconds",
        "EstimatedSecondsToCompletion",
    ),
    relations=(Relation(R.IS_ASSOCIATED_WITH, "ClusterIdentifier", "redshift.cluster"),),
)

CLUSTER_SUBNET_GROUP = CatalogEntry(
    type_name="redshift.cluster_subnet_group",
    operation="DescribeClusterSubnetGroups",
    result_path="ClusterSubnetGroups[]",
    id_path="ClusterSubnetGroupName",
    arn_template=_ARN + "subnetgroup:{id}",
    name_path="ClusterSubnetGroupName",
    page_size_limits=_PAGE,
    relations=(
        Relation(R.IS_CONTAINED_IN, "VpcId", "ec2.vpc"),
        Relation(R.CONTAINS, "Subnets[].SubnetIdentifier", "ec2.subnet"),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                _REDSHIFT,
                (
                    "CreateClusterSubnetGroup",
                    "ModifyClusterSubnetGroup",
                    "DeleteClusterSubnetGroup",
                ),
                "requestParameters.clusterSubnetGroupName",
            ),
        ),
    ),
)

ENTRIES = (CLUSTER, CLUSTER_SNAPSHOT, CLUSTER_SUBNET_GROUP)
