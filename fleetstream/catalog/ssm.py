"""SSM resource types: parameter metadata only (DescribeParameters), never GetParameter."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail

PARAMETER = CatalogEntry(
    type_name="ssm.parameter",
    operation="DescribeParameters",
    result_path="Parameters[]",
    id_path="Name",
    arn_path="ARN",
    # Parameter names may start with "/": "/a/b" has the ARN ...:parameter/a/b.
    arn_template="arn:{partition}:ssm:{region}:{account_id}:parameter/{id_path}",
    name_path="Name",
    details=(
        Detail(
            "ListTagsForResource",
            {"ResourceId": "Name"},
            "TagList",
            into="Tags",
            static_params={"ResourceType": "Parameter"},
            absent_codes=("InvalidResourceId",),
        ),
    ),
)

ENTRIES = (PARAMETER,)
