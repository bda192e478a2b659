"""EKS resource types: clusters and their managed node groups."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, Parent, TagStyle

_GONE = ("ResourceNotFoundException",)

CLUSTER = CatalogEntry(
    type_name="eks.cluster",
    operation="ListClusters",
    result_path="clusters",
    item_key="name",
    id_path="name",
    arn_path="arn",
    arn_template="arn:{partition}:eks:{region}:{account_id}:cluster/{id}",
    name_path="name",
    tags_path="tags",
    tag_style=TagStyle.MAP,
    details=(
        Detail("DescribeCluster", {"name": "name"}, "cluster", absent_codes=_GONE, required=True),
    ),
)

NODEGROUP = CatalogEntry(
    type_name="eks.nodegroup",
    operation="ListNodegroups",
    parent=Parent("ListClusters", "clusters", "@", param="clusterName", into="clusterName"),
    result_path="nodegroups",
    item_key="nodegroupName",
    id_path="nodegroupArn",  # node group names are unique per cluster only
    arn_path="nodegroupArn",
    arn_template="",
    name_path="nodegroupName",
    tags_path="tags",
    tag_style=TagStyle.MAP,
    details=(
        Detail(
            "DescribeNodegroup",
            {"clusterName": "clusterName", "nodegroupName": "nodegroupName"},
            "nodegroup",
            absent_codes=_GONE,
            required=True,
        ),
    ),
)

ENTRIES = (CLUSTER, NODEGROUP)
