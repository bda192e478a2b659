"""Auto Scaling resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry

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

ENTRIES = (GROUP,)
