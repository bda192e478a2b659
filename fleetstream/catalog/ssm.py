"""SSM resource types: parameter metadata only (DescribeParameters), never GetParameter;
the account's own documents."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh

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

DOCUMENT = CatalogEntry(
    type_name="ssm.document",
    operation="ListDocuments",
    # Only the account's own: AWS's and shared documents number in the thousands.
    request_params={"Filters": [{"Key": "Owner", "Values": ["Self"]}]},
    result_path="DocumentIdentifiers[]",
    id_path="Name",
    arn_template="arn:{partition}:ssm:{region}:{account_id}:document/{id}",
    name_path="Name",
    refresh=Refresh(
        events=(
            EventRule(
                "ssm.amazonaws.com",
                (
                    "CreateDocument",
                    "UpdateDocument",
                    "DeleteDocument",
                    "UpdateDocumentDefaultVersion",
                ),
                "requestParameters.name",
            ),
        ),
    ),
)

ENTRIES = (PARAMETER, DOCUMENT)
