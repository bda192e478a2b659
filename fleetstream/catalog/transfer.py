"""Transfer Family resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh, Relation
from fleetstream.catalog.entry import RelationName as R

SERVER = CatalogEntry(
    type_name="transfer.server",
    operation="ListServers",
    result_path="Servers[]",
    id_path="ServerId",
    arn_path="Arn",
    arn_template="arn:{partition}:transfer:{region}:{account_id}:server/{id}",
    name_path="ServerId",
    details=(
        Detail(
            "ListTagsForResource",
            {"Arn": "Arn"},
            "Tags",
            into="Tags",
            absent_codes=("ResourceNotFoundException",),
        ),
    ),
    volatile_fields=("State", "UserCount"),
    relations=(Relation(R.IS_ASSOCIATED_WITH, "LoggingRole", "iam.role"),),
    refresh=Refresh(
        events=(
            EventRule(
                "transfer.amazonaws.com",
                ("UpdateServer", "DeleteServer", "StartServer", "StopServer"),
                "requestParameters.serverId",
            ),
        ),
    ),
)

ENTRIES = (SERVER,)
