"""Classic Load Balancer resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, Relation
from fleetstream.catalog.entry import RelationName as R

LOAD_BALANCER = CatalogEntry(
    type_name="elb.load_balancer",
    operation="DescribeLoadBalancers",
    result_path="LoadBalancerDescriptions[]",
    id_path="LoadBalancerName",
    arn_template="arn:{partition}:elasticloadbalancing:{region}:{account_id}:loadbalancer/{id}",
    name_path="LoadBalancerName",
    details=(
        Detail(
            "DescribeTags",
            {"LoadBalancerNames": "LoadBalancerName"},
            "TagDescriptions",
            into="Tags",
            batch_param="LoadBalancerNames",
            batch_size=20,  # DescribeTags takes at most 20 names
            match=("LoadBalancerName", "LoadBalancerName"),
            value_path="Tags",
            absent_codes=("LoadBalancerNotFound",),
        ),
    ),
    relations=(
        Relation(R.IS_CONTAINED_IN, "Subnets", "ec2.subnet"),
        Relation(R.IS_CONTAINED_IN, "VPCId", "ec2.vpc"),
        Relation(R.IS_ASSOCIATED_WITH, "SecurityGroups", "ec2.security_group"),
        Relation(R.IS_ASSOCIATED_WITH, "Instances[].InstanceId", "ec2.instance"),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                "elasticloadbalancing.amazonaws.com",
                (
                    "CreateLoadBalancer",
                    "DeleteLoadBalancer",
                    "RegisterInstancesWithLoadBalancer",
                    "DeregisterInstancesFromLoadBalancer",
                    "ConfigureHealthCheck",
                    "ModifyLoadBalancerAttributes",
                    "ApplySecurityGroupsToLoadBalancer",
                ),
                "requestParameters.loadBalancerName",
            ),
        ),
        ids_param="LoadBalancerNames",
    ),
)

ENTRIES = (LOAD_BALANCER,)
