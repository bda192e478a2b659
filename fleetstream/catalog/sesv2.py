"""SES (API v2) resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail, Pagination

EMAIL_IDENTITY = CatalogEntry(
    type_name="sesv2.email_identity",
    operation="ListEmailIdentities",
    # ListEmailIdentities returns NextToken but botocore has no paginator for it.
    pagination=Pagination("NextToken", "NextToken", "EmailIdentities", limit_key="PageSize"),
    result_path="EmailIdentities[]",
    id_path="IdentityName",
    arn_template="arn:{partition}:ses:{region}:{account_id}:identity/{id}",
    name_path="IdentityName",
    details=(
        # The list omits tags; GetEmailIdentity is the only call that has them.
        Detail(
            "GetEmailIdentity",
            {"EmailIdentity": "IdentityName"},
            "Tags",
            into="Tags",
            absent_codes=("NotFoundException",),
            required=True,
        ),
    ),
    volatile_fields=("VerificationStatus",),
)

ENTRIES = (EMAIL_IDENTITY,)
