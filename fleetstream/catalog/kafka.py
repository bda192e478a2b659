"""Amazon MSK resource types (the boto3 client is named kafka)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, TagStyle

CLUSTER = CatalogEntry(
    type_name="kafka.cluster",
    operation="ListClustersV2",  # provisioned and serverless clusters
    result_path="ClusterInfoList[]",
    id_path="ClusterName",
    arn_path="ClusterArn",
    arn_template="",
    name_path="ClusterName",
    tag_style=TagStyle.MAP,
)

ENTRIES = (CLUSTER,)
