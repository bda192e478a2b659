"""EFS resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Relation
from fleetstream.catalog.entry import RelationName as R

FILE_SYSTEM = CatalogEntry(
    type_name="efs.file_system",
    operation="DescribeFileSystems",
    result_path="FileSystems[]",
    id_path="FileSystemId",
    arn_path="FileSystemArn",
    arn_template="arn:{partition}:elasticfilesystem:{region}:{account_id}:file-system/{id}",
    name_path="Name",
    volatile_fields=("SizeInBytes",),
)

ACCESS_POINT = CatalogEntry(
    type_name="efs.access_point",
    operation="DescribeAccessPoints",
    result_path="AccessPoints[]",
    id_path="AccessPointId",
    arn_path="AccessPointArn",
    arn_template="arn:{partition}:elasticfilesystem:{region}:{account_id}:access-point/{id}",
    name_path="Name",
    volatile_fields=("LifeCycleState",),
    relations=(Relation(R.IS_CONTAINED_IN, "FileSystemId", "efs.file_system"),),
)

ENTRIES = (FILE_SYSTEM, ACCESS_POINT)
