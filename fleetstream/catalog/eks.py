"""EKS resource types: clusters and their managed node groups."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, Parent, Relation, TagStyle
from fleetstream.catalog.entry import RelationName as R

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

FARGATE_PROFILE = CatalogEntry(
    type_name="eks.fargate_profile",
    operation="ListFargateProfiles",
    parent=Parent("ListClusters", "clusters", "@", param="clusterName", into="clusterName"),
    result_path="fargateProfileNames",
    item_key="fargateProfileName",
    id_path="fargateProfileArn",  # profile names are unique per cluster only
    arn_path="fargateProfileArn",
    arn_template="",
    name_path="fargateProfileName",
    tags_path="tags",
    tag_style=TagStyle.MAP,
    details=(
        Detail(
            "DescribeFargateProfile",
            {"clusterName": "clusterName", "fargateProfileName": "fargateProfileName"},
            "fargateProfile",
            absent_codes=_GONE,
            required=True,
        ),
    ),
    volatile_fields=("status", "health"),
    relations=(
        Relation(R.IS_ASSOCIATED_WITH, "podExecutionRoleArn", "iam.role"),
        Relation(R.IS_CONTAINED_IN, "subnets", "ec2.subnet"),
    ),
)

ADDON = CatalogEntry(
    type_name="eks.addon",
    operation="ListAddons",
    parent=Parent("ListClusters", "clusters", "@", param="clusterName", into="clusterName"),
    result_path="addons",
    item_key="addonName",
    id_path="addonArn",  # add-on names are unique per cluster only
    arn_path="addonArn",
    arn_template="",
    name_path="addonName",
    tags_path="tags",
    tag_style=TagStyle.MAP,
    details=(
        Detail(
            "DescribeAddon",
            {"clusterName": "clusterName", "addonName": "addonName"},
            "addon",
            absent_codes=_GONE,
            required=True,
        ),
    ),
    volatile_fields=("status", "health", "modifiedAt"),
    relations=(Relation(R.IS_ASSOCIATED_WITH, "serviceAccountRoleArn", "iam.role"),),
)

ENTRIES = (CLUSTER, NODEGROUP, FARGATE_PROFILE, ADDON)
