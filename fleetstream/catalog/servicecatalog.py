"""Service Catalog resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, EventRule, Refresh

PORTFOLIO = CatalogEntry(
    type_name="servicecatalog.portfolio",
    operation="ListPortfolios",
    result_path="PortfolioDetails[]",
    id_path="Id",
    arn_path="ARN",
    arn_template="arn:{partition}:catalog:{region}:{account_id}:portfolio/{id}",
    name_path="DisplayName",
    details=(
        Detail(
            "DescribePortfolio",
            {"Id": "Id"},
            "Tags",
            into="Tags",
            absent_codes=("ResourceNotFoundException",),
            required=True,
        ),
    ),
    refresh=Refresh(
        events=(
            EventRule(
                "servicecatalog.amazonaws.com",
                ("UpdatePortfolio", "DeletePortfolio"),
                "requestParameters.id",
            ),
        ),
    ),
)

ENTRIES = (PORTFOLIO,)
