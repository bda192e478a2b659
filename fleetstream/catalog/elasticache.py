"""ElastiCache resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail

CACHE_CLUSTER = CatalogEntry(
    type_name="elasticache.cache_cluster",
    operation="DescribeCacheClusters",
    result_path="CacheClusters[]",
    id_path="CacheClusterId",
    arn_path="ARN",
    arn_template="arn:{partition}:elasticache:{region}:{account_id}:cluster:{id}",
    name_path="CacheClusterId",
    tags_path="TagList",
    page_size_limits=(20, 100),  # like RDS, MaxRecords is 20..100
    details=(
        Detail(
            "ListTagsForResource",
            {"ResourceName": "ARN"},
            "TagList",
            into="TagList",
            absent_codes=("CacheClusterNotFound",),
        ),
    ),
)

ENTRIES = (CACHE_CLUSTER,)
