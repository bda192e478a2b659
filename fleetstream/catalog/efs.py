"""EFS resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry

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

ENTRIES = (FILE_SYSTEM,)
