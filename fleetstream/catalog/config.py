"""AWS Config resource types (one configuration recorder per account and region)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, Relation, TagStyle
from fleetstream.catalog.entry import RelationName as R

CONFIGURATION_RECORDER = CatalogEntry(
    type_name="config.configuration_recorder",
    operation="DescribeConfigurationRecorders",
    paginated=False,  # at most one customer recorder per region
    result_path="ConfigurationRecorders[]",
    id_path="name",
    arn_path="arn",
    arn_template="arn:{partition}:config:{region}:{account_id}:configuration-recorder/{id}",
    name_path="name",
    tags_path=None,
    tag_style=TagStyle.NONE,
    relations=(Relation(R.IS_ASSOCIATED_WITH, "roleARN", "iam.role"),),
    refresh=Refresh(
        events=(
            EventRule(
                "config.amazonaws.com",
                ("PutConfigurationRecorder", "DeleteConfigurationRecorder"),
                "requestParameters.configurationRecorder.name",
            ),
        ),
    ),
)

CONFIG_RULE = CatalogEntry(
    type_name="config.config_rule",
    operation="DescribeConfigRules",
    result_path="ConfigRules[]",
    id_path="ConfigRuleName",
    arn_path="ConfigRuleArn",
    arn_template="",  # the ARN names the rule's id, not its name
    name_path="ConfigRuleName",
    details=(
        Detail(
            "ListTagsForResource",
            {"ResourceArn": "ConfigRuleArn"},
            "Tags",
            into="Tags",
            absent_codes=("ResourceNotFoundException",),
        ),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                "config.amazonaws.com",
                ("PutConfigRule",),
                "requestParameters.configRule.configRuleName",
            ),
            EventRule(
                "config.amazonaws.com", ("DeleteConfigRule",), "requestParameters.configRuleName"
            ),
        ),
        ids_param="ConfigRuleNames",
        max_ids=25,  # DescribeConfigRules takes at most 25 names
    ),
)

ENTRIES = (CONFIGURATION_RECORDER, CONFIG_RULE)
