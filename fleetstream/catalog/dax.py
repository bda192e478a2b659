"""DynamoDB Accelerator (DAX) resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, EventRule, Refresh, Relation, tags_detail
from fleetstream.catalog.entry import RelationName as R

CLUSTER = CatalogEntry(
    type_name="dax.cluster",
    operation="DescribeClusters",
    result_path="Clusters[]",
    id_path="ClusterName",
    arn_path="ClusterArn",
    arn_template="arn:{partition}:dax:{region}:{account_id}:cache/{id}",
    name_path="ClusterName",
    details=(tags_detail("ListTags", "ResourceName", "ClusterArn", "ClusterNotFoundFault"),),
    volatile_fields=("Status", "ActiveNodes", "Nodes", "NodeIdsToRemove"),
    relations=(
        Relation(
            R.IS_ASSOCIATED_WITH, "SecurityGroups[].SecurityGroupIdentifier", "ec2.security_group"
        ),
        Relation(R.IS_ASSOCIATED_WITH, "IamRoleArn", "iam.role"),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                "dax.amazonaws.com",
                ("CreateCluster", "UpdateCluster", "DeleteCluster"),
                "requestParameters.clusterName",
            ),
        ),
        ids_param="ClusterNames",
    ),
)

ENTRIES = (CLUSTER,)
