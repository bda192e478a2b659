"""WAFv2 resource types (regional scope; CloudFront's live in us-east-1 with another Scope
and are not listed here)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Pagination, Refresh

_WAF = "wafv2.amazonaws.com"


def _tags() -> Detail:
    # The list calls omit tags.
    return Detail(
        "ListTagsForResource",
        {"ResourceARN": "ARN"},
        "TagInfoForResource.TagList",
        into="Tags",
        absent_codes=("WAFNonexistentItemException",),
    )


def _refresh(kind: str) -> Refresh:
    return Refresh(
        events=(
            EventRule(
                _WAF,
                (f"Create{kind}", f"Update{kind}", f"Delete{kind}"),
                "requestParameters.id || responseElements.summary.id",
            ),
        ),
    )


WEB_ACL = CatalogEntry(
    type_name="wafv2.web_acl",
    operation="ListWebACLs",
    request_params={"Scope": "REGIONAL"},
    # ListWebACLs returns NextMarker but botocore has no paginator for it.
    pagination=Pagination("NextMarker", "NextMarker", "WebACLs", limit_key="Limit"),
    result_path="WebACLs[]",
    id_path="Id",
    arn_path="ARN",
    arn_template="arn:{partition}:wafv2:{region}:{account_id}:regional/webacl/{id}",
    name_path="Name",
    details=(_tags(),),
    # The lock token changes with every update: optimistic locking, not state.
    volatile_fields=("LockToken",),
    refresh=_refresh("WebACL"),
)

IP_SET = CatalogEntry(
    type_name="wafv2.ip_set",
    operation="ListIPSets",
    request_params={"Scope": "REGIONAL"},
    # ListIPSets returns NextMarker but botocore has no paginator for it.
    pagination=Pagination("NextMarker", "NextMarker", "IPSets", limit_key="Limit"),
    result_path="IPSets[]",
    id_path="Id",
    arn_path="ARN",
    arn_template="arn:{partition}:wafv2:{region}:{account_id}:regional/ipset/{id}",
    name_path="Name",
    details=(_tags(),),
    volatile_fields=("LockToken",),
    refresh=_refresh("IPSet"),
)

RULE_GROUP = CatalogEntry(
    type_name="wafv2.rule_group",
    operation="ListRuleGroups",
    request_params={"Scope": "REGIONAL"},
    # ListRuleGroups returns NextMarker but botocore has no paginator for it.
    pagination=Pagination("NextMarker", "NextMarker", "RuleGroups", limit_key="Limit"),
    result_path="RuleGroups[]",
    id_path="Id",
    arn_path="ARN",
    arn_template="arn:{partition}:wafv2:{region}:{account_id}:regional/rulegroup/{id}",
    name_path="Name",
    details=(_tags(),),
    volatile_fields=("LockToken",),
    refresh=_refresh("RuleGroup"),
)

ENTRIES = (WEB_ACL, IP_SET, RULE_GROUP)
