"""FSx resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, EventRule, Refresh, Relation
from fleetstream.catalog.entry import RelationName as R

FILE_SYSTEM = CatalogEntry(
    type_name="fsx.file_system",
    operation="DescribeFileSystems",
    result_path="FileSystems[]",
    id_path="FileSystemId",
    arn_path="ResourceARN",
    arn_template="arn:{partition}:fsx:{region}:{account_id}:file-system/{id}",
    name_path="tag:Name",
    # The ONTAP admin password and the AD join account's secret; in-flight administrative
    # actions echo whole target configurations, passwords included (and are volatile).
    sensitive_fields=(
        "OntapConfiguration.FsxAdminPassword",
        "WindowsConfiguration.SelfManagedActiveDirectoryConfiguration.DomainJoinServiceAccountSecret",
        "AdministrativeActions",
    ),
    volatile_fields=("Lifecycle", "AdministrativeActions", "FailureDetails"),
    relations=(
        Relation(R.IS_CONTAINED_IN, "VpcId", "ec2.vpc"),
        Relation(R.IS_CONTAINED_IN, "SubnetIds", "ec2.subnet"),
        Relation(R.CONTAINS, "NetworkInterfaceIds", "ec2.network_interface"),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                "fsx.amazonaws.com",
                ("CreateFileSystem", "UpdateFileSystem", "DeleteFileSystem"),
                "requestParameters.fileSystemId || responseElements.fileSystem.fileSystemId",
            ),
        ),
        ids_param="FileSystemIds",
    ),
)

ENTRIES = (FILE_SYSTEM,)
