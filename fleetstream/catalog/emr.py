"""EMR resource types (clusters not yet terminated)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh

_EMR = "elasticmapreduce.amazonaws.com"

CLUSTER = CatalogEntry(
    type_name="emr.cluster",
    operation="ListClusters",
    # ListClusters keeps terminated clusters for two months; to an inventory they are gone.
    request_params={
        "ClusterStates": ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING", "TERMINATING"]
    },
    result_path="Clusters[]",
    id_path="Id",
    arn_path="ClusterArn",
    arn_template="arn:{partition}:elasticmapreduce:{region}:{account_id}:cluster/{id}",
    name_path="Name",
    details=(
        Detail(
            "DescribeCluster",
            {"ClusterId": "Id"},
            "Cluster",
            absent_codes=("InvalidRequestException",),
            required=True,
        ),
    ),
    volatile_fields=("Status", "NormalizedInstanceHours"),
    # Kerberos passwords, and configuration properties that hold passwords (hive-site's
    # javax.jdo.option.ConnectionPassword); configurations nest without bound, so all of them.
    sensitive_fields=(
        "KerberosAttributes.KdcAdminPassword",
        "KerberosAttributes.CrossRealmTrustPrincipalPassword",
        "KerberosAttributes.ADDomainJoinPassword",
        "Configurations",
    ),
    refresh=Refresh(
        events=(
            EventRule(_EMR, ("RunJobFlow",), "responseElements.jobFlowId"),
            EventRule(
                _EMR,
                ("TerminateJobFlows", "SetTerminationProtection"),
                "requestParameters.jobFlowIds",
            ),
        ),
    ),
)

ENTRIES = (CLUSTER,)
