"""CloudFormation resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry

STACK = CatalogEntry(
    type_name="cloudformation.stack",
    operation="DescribeStacks",  # deleted stacks are not listed, unlike ListStacks
    result_path="Stacks[]",
    id_path="StackName",
    arn_path="StackId",
    arn_template="",
    name_path="StackName",
    volatile_fields=("DriftInformation.LastCheckTimestamp",),
)

ENTRIES = (STACK,)
