"""Route 53 Resolver resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, EventRule, Refresh, tags_detail

# The list calls omit tags.
_TAGS = tags_detail("ListTagsForResource", "ResourceArn", "Arn", "ResourceNotFoundException")

RESOLVER_RULE = CatalogEntry(
    type_name="route53resolver.resolver_rule",
    operation="ListResolverRules",
    # The "Internet Resolver" system rule is in every account: not the account's inventory.
    result_path="ResolverRules[?OwnerId != 'Route 53 Resolver']",
    id_path="Id",
    arn_path="Arn",
    arn_template="arn:{partition}:route53resolver:{region}:{account_id}:resolver-rule/{id}",
    name_path="Name",
    details=(_TAGS,),
    volatile_fields=("Status", "StatusMessage"),
    refresh=Refresh(
        events=(
            EventRule(
                "route53resolver.amazonaws.com",
                ("UpdateResolverRule", "DeleteResolverRule"),
                "requestParameters.resolverRuleId",
            ),
        ),
    ),
)

QUERY_LOG_CONFIG = CatalogEntry(
    type_name="route53resolver.query_log_config",
    operation="ListResolverQueryLogConfigs",
    result_path="ResolverQueryLogConfigs[]",
    id_path="Id",
    arn_path="Arn",
    arn_template="arn:{partition}:route53resolver:{region}:{account_id}:resolver-query-log-config/{id}",
    name_path="Name",
    details=(_TAGS,),
    volatile_fields=("Status", "AssociationCount"),
    refresh=Refresh(
        events=(
            EventRule(
                "route53resolver.amazonaws.com",
                ("DeleteResolverQueryLogConfig",),
                "requestParameters.resolverQueryLogConfigId",
            ),
        ),
    ),
)

ENTRIES = (RESOLVER_RULE, QUERY_LOG_CONFIG)
