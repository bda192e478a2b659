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

CONFIGURATION = CatalogEntry(
    type_name="kafka.configuration",
    operation="ListConfigurations",
    result_path="Configurations[]",
    id_path="Arn",  # the ARN ends in a generated id; names are not the key MSK uses
    arn_path="Arn",
    arn_template="",
    name_path="Name",
    tags_path=None,  # configurations take no tags
    tag_style=TagStyle.NONE,
    volatile_fields=("State",),
)

ENTRIES = (CLUSTER, CONFIGURATION)
