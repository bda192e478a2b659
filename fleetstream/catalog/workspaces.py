"""WorkSpaces resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, Relation
from fleetstream.catalog.entry import RelationName as R

WORKSPACE = CatalogEntry(
    type_name="workspaces.workspace",
    operation="DescribeWorkspaces",
    result_path="Workspaces[]",
    id_path="WorkspaceId",
    arn_template="arn:{partition}:workspaces:{region}:{account_id}:workspace/{id}",
    name_path="WorkspaceName",
    tags_path="TagList",
    details=(
        Detail(
            "DescribeTags",
            {"ResourceId": "WorkspaceId"},
            "TagList",
            into="TagList",
            absent_codes=("ResourceNotFoundException",),
        ),
    ),
    volatile_fields=("State", "ModificationStates", "ErrorMessage", "ErrorCode"),
    relations=(Relation(R.IS_CONTAINED_IN, "SubnetId", "ec2.subnet"),),
)

ENTRIES = (WORKSPACE,)
