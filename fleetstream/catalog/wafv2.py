"""WAFv2 resource types (regional scope; CloudFront's live in us-east-1 with another Scope
and are not listed here)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Pagination, Refresh

_WAF = "wafv2.amazonaws.com"
# The list calls omit tags.
_TAGS = Detail(
    "ListTagsForResource",
    {"ResourceARN": "ARN"},
    "TagInfoForResource.TagList",
    into="Tags",
    absent_codes=("WAFNonexistentItemException",),
)


def _regional(kind: str, noun: str, items: str, arn_kind: str) -> CatalogEntry:
    """WAFv2's three regional types list, tag and change alike: List<noun>s with Scope,
    NextMarker paging (which botocore has no paginator for), Id, ARN and a lock token."""
    return CatalogEntry(
        type_name=f"wafv2.{kind}",
        operation=f"List{noun}s",
        request_params={"Scope": "REGIONAL"},
        pagination=Pagination("NextMarker", "NextMarker", items, limit_key="Limit"),
        result_path=f"{items}[]",
        id_path="Id",
        arn_path="ARN",
        arn_template=f"arn:{{partition}}:wafv2:{{region}}:{{account_id}}:regional/{arn_kind}/{{id}}",
        name_path="Name",
        details=(_TAGS,),
        # The lock token changes with every update: optimistic locking, not state.
        volatile_fields=("LockToken",),
        refresh=Refresh(
            events=(
                EventRule(
                    _WAF,
                    (f"Create{noun}", f"Update{noun}", f"Delete{noun}"),
                    "requestParameters.id || responseElements.summary.id",
                ),
            ),
        ),
    )


WEB_ACL = _regional("web_acl", "WebACL", "WebACLs", "webacl")
IP_SET = _regional("ip_set", "IPSet", "IPSets", "ipset")
RULE_GROUP = _regional("rule_group", "RuleGroup", "RuleGroups", "rulegroup")

ENTRIES = (WEB_ACL, IP_SET, RULE_GROUP)
