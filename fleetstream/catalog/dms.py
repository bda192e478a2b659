"""Database Migration Service resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, Relation
from fleetstream.catalog.entry import RelationName as R

REPLICATION_INSTANCE = CatalogEntry(
    type_name="dms.replication_instance",
    operation="DescribeReplicationInstances",
    result_path="ReplicationInstances[]",
    id_path="ReplicationInstanceIdentifier",
    arn_path="ReplicationInstanceArn",
    arn_template="",
    name_path="ReplicationInstanceIdentifier",
    tags_path="TagList",
    page_size_limits=(20, 100),  # DMS rejects MaxRecords outside 20..100
    details=(
        Detail(
            "ListTagsForResource",
            {"ResourceArn": "ReplicationInstanceArn"},
            "TagList",
            into="TagList",
            absent_codes=("ResourceNotFoundFault",),
        ),
    ),
    volatile_fields=("ReplicationInstanceStatus", "PendingModifiedValues", "FreeUntil"),
    relations=(
        Relation(
            R.IS_ASSOCIATED_WITH, "VpcSecurityGroups[].VpcSecurityGroupId", "ec2.security_group"
        ),
        Relation(
            R.IS_CONTAINED_IN, "ReplicationSubnetGroup.Subnets[].SubnetIdentifier", "ec2.subnet"
        ),
        Relation(R.IS_ASSOCIATED_WITH, "KmsKeyId", "kms.key"),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                "dms.amazonaws.com",
                ("CreateReplicationInstance",),
                "requestParameters.replicationInstanceIdentifier",
            ),
        ),
    ),
)

ENTRIES = (REPLICATION_INSTANCE,)
