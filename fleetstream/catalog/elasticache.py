"""ElastiCache resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, Relation
from fleetstream.catalog.entry import RelationName as R

_PAGE = (20, 100)  # like RDS, MaxRecords is 20..100


def _tags(*absent_codes: str) -> Detail:
    # The describe calls omit tags.
    return Detail(
        "ListTagsForResource",
        {"ResourceName": "ARN"},
        "TagList",
        into="TagList",
        absent_codes=absent_codes,
    )


CACHE_CLUSTER = CatalogEntry(
    type_name="elasticache.cache_cluster",
    operation="DescribeCacheClusters",
    result_path="CacheClusters[]",
    id_path="CacheClusterId",
    arn_path="ARN",
    arn_template="arn:{partition}:elasticache:{region}:{account_id}:cluster:{id}",
    name_path="CacheClusterId",
    tags_path="TagList",
    page_size_limits=_PAGE,
    details=(_tags("CacheClusterNotFound"),),
)

REPLICATION_GROUP = CatalogEntry(
    type_name="elasticache.replication_group",
    operation="DescribeReplicationGroups",
    result_path="ReplicationGroups[]",
    id_path="ReplicationGroupId",
    arn_path="ARN",
    arn_template="arn:{partition}:elasticache:{region}:{account_id}:replicationgroup:{id}",
    name_path="ReplicationGroupId",
    tags_path="TagList",
    page_size_limits=_PAGE,
    details=(_tags("ReplicationGroupNotFoundFault"),),
    volatile_fields=("Status", "PendingModifiedValues"),
    relations=(Relation(R.CONTAINS, "MemberClusters", "elasticache.cache_cluster"),),
)

SUBNET_GROUP = CatalogEntry(
    type_name="elasticache.subnet_group",
    operation="DescribeCacheSubnetGroups",
    result_path="CacheSubnetGroups[]",
    id_path="CacheSubnetGroupName",
    arn_path="ARN",
    arn_template="arn:{partition}:elasticache:{region}:{account_id}:subnetgroup:{id}",
    name_path="CacheSubnetGroupName",
    tags_path="TagList",
    page_size_limits=_PAGE,
    details=(_tags("CacheSubnetGroupNotFoundFault"),),
    relations=(
        Relation(R.IS_CONTAINED_IN, "VpcId", "ec2.vpc"),
        Relation(R.CONTAINS, "Subnets[].SubnetIdentifier", "ec2.subnet"),
    ),
)

ENTRIES = (CACHE_CLUSTER, REPLICATION_GROUP, SUBNET_GROUP)
