"""EC2 resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry

INSTANCE = CatalogEntry(
    type_name="ec2.instance",
    service="ec2",
    operation="DescribeInstances",
    result_path="Reservations[].Instances[]",
    id_path="InstanceId",
    arn_template="arn:{partition}:ec2:{region}:{account_id}:instance/{id}",
    name_path="tag:Name",
    permissions=("ec2:DescribeInstances",),
    volatile_fields=("NetworkInterfaces[].Attachment.AttachTime",),
)

ENTRIES = (INSTANCE,)
