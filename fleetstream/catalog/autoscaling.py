"""Auto Scaling resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, EventRule, Refresh, Relation, TagStyle
from fleetstream.catalog.entry import RelationName as R

_AUTOSCALING = "autoscaling.amazonaws.com"

GROUP = CatalogEntry(
    type_name="autoscaling.group",
    operation="DescribeAutoScalingGroups",
    result_path="AutoScalingGroups[]",
    id_path="AutoScalingGroupName",
    arn_path="AutoScalingGroupARN",
    arn_template="",
    name_path="AutoScalingGroupName",
    page_size_limits=(1, 100),
)

LAUNCH_CONFIGURATION = CatalogEntry(
    type_name="autoscaling.launch_configuration",
    operation="DescribeLaunchConfigurations",
    result_path="LaunchConfigurations[]",
    id_path="LaunchConfigurationName",
    arn_path="LaunchConfigurationARN",
    arn_template="",
    name_path="LaunchConfigurationName",
    tags_path=None,  # launch configurations take no tags
    tag_style=TagStyle.NONE,
    page_size_limits=(1, 100),
    # User data holds bootstrap secrets often enough; a change still shows as one.
    sensitive_fields=("UserData",),
    relations=(
        Relation(R.IS_ASSOCIATED_WITH, "SecurityGroups", "ec2.security_group"),
        Relation(R.IS_ASSOCIATED_WITH, "ImageId", "ec2.image"),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                _AUTOSCALING,
                ("CreateLaunchConfiguration", "DeleteLaunchConfiguration"),
                "requestParameters.launchConfigurationName",
            ),
        ),
        ids_param="LaunchConfigurationNames",
        max_ids=50,  # LaunchConfigurationNames takes at most 50
    ),
)

SCALING_POLICY = CatalogEntry(
    type_name="autoscaling.scaling_policy",
    operation="DescribePolicies",
    result_path="ScalingPolicies[]",
    id_path="PolicyARN",  # policy names are unique per group only
    arn_path="PolicyARN",
    arn_template="",
    name_path="PolicyName",
    tags_path=None,  # scaling policies take no tags
    tag_style=TagStyle.NONE,
    page_size_limits=(1, 50),
    refresh=Refresh(
        events=(EventRule(_AUTOSCALING, ("PutScalingPolicy",), "responseElements.policyARN"),),
    ),
)

ENTRIES = (GROUP, LAUNCH_CONFIGURATION, SCALING_POLICY)
