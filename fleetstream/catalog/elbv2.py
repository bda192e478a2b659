"""Elastic Load Balancing v2 resource types (application, network and gateway)."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, Parent, Relation
from fleetstream.catalog.entry import RelationName as R


def _tags(arn_path: str) -> Detail:
    # DescribeTags takes at most 20 ARNs per call.
    return Detail(
        "DescribeTags",
        {"ResourceArns": arn_path},
        "TagDescriptions",
        into="Tags",
        batch_param="ResourceArns",
        batch_size=20,
        match=(arn_path, "ResourceArn"),
        value_path="Tags",
    )


LOAD_BALANCER = CatalogEntry(
    type_name="elbv2.load_balancer",
    operation="DescribeLoadBalancers",
    result_path="LoadBalancers[]",
    id_path="LoadBalancerName",
    arn_path="LoadBalancerArn",
    arn_template="",
    name_path="LoadBalancerName",
    details=(_tags("LoadBalancerArn"),),
    relations=(
        Relation(R.IS_CONTAINED_IN, "AvailabilityZones[].SubnetId", "ec2.subnet"),
        Relation(R.IS_CONTAINED_IN, "VpcId", "ec2.vpc"),
        Relation(R.IS_ASSOCIATED_WITH, "SecurityGroups", "ec2.security_group"),
    ),
)

TARGET_GROUP = CatalogEntry(
    type_name="elbv2.target_group",
    operation="DescribeTargetGroups",
    result_path="TargetGroups[]",
    id_path="TargetGroupName",
    arn_path="TargetGroupArn",
    arn_template="",
    name_path="TargetGroupName",
    details=(_tags("TargetGroupArn"),),
    relations=(
        Relation(R.IS_ASSOCIATED_WITH, "LoadBalancerArns", "elbv2.load_balancer"),
        Relation(R.IS_CONTAINED_IN, "VpcId", "ec2.vpc"),
    ),
)

LISTENER = CatalogEntry(
    type_name="elbv2.listener",
    operation="DescribeListeners",
    parent=Parent(
        "DescribeLoadBalancers",
        "LoadBalancers",
        "LoadBalancerArn",
        param="LoadBalancerArn",
        into="LoadBalancerArn",
    ),
    result_path="Listeners[]",
    id_path="ListenerArn",
    arn_path="ListenerArn",
    arn_template="",
    name_path="ListenerArn",
    details=(_tags("ListenerArn"),),
    # DescribeListeners leaves the OIDC client secret out today; the shape has it.
    sensitive_fields=("DefaultActions[].AuthenticateOidcConfig.ClientSecret",),
    relations=(Relation(R.IS_CONTAINED_IN, "LoadBalancerArn", "elbv2.load_balancer"),),
)

ENTRIES = (LOAD_BALANCER, TARGET_GROUP, LISTENER)
