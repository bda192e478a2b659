"""OpenSearch Service resource types (also Elasticsearch domains, which share the API)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, Relation
from fleetstream.catalog.entry import RelationName as R

DOMAIN = CatalogEntry(
    type_name="opensearch.domain",
    operation="ListDomainNames",
    paginated=False,  # ListDomainNames returns every domain at once
    result_path="DomainNames[]",
    id_path="DomainName",
    arn_path="ARN",
    arn_template="arn:{partition}:es:{region}:{account_id}:domain/{id}",
    name_path="DomainName",
    tags_path="TagList",
    details=(
        Detail(
            "DescribeDomains",
            {"DomainNames": "DomainName"},
            "DomainStatusList",
            batch_param="DomainNames",
            batch_size=5,  # DescribeDomains takes at most 5 names
            match=("DomainName", "DomainName"),
            required=True,
        ),
        Detail(
            "ListTags",
            {"ARN": "ARN"},
            "TagList",
            into="TagList",
            absent_codes=("ResourceNotFoundException",),
        ),
    ),
    volatile_fields=("Processing", "UpgradeProcessing", "ServiceSoftwareOptions"),
    # The values of settings being changed, which can be the master user's options.
    sensitive_fields=("ModifyingProperties[].ActiveValue", "ModifyingProperties[].PendingValue"),
    relations=(
        Relation(R.IS_CONTAINED_IN, "VPCOptions.SubnetIds", "ec2.subnet"),
        Relation(R.IS_ASSOCIATED_WITH, "VPCOptions.SecurityGroupIds", "ec2.security_group"),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                "es.amazonaws.com",
                ("CreateDomain", "DeleteDomain", "UpdateDomainConfig"),
                "requestParameters.domainName",
            ),
        ),
    ),
)

ENTRIES = (DOMAIN,)
