"""AWS Private CA resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, EventRule, Refresh, tags_detail

CERTIFICATE_AUTHORITY = CatalogEntry(
    type_name="acm-pca.certificate_authority",
    operation="ListCertificateAuthorities",
    # CAs other accounts share through RAM are theirs, not this account's inventory.
    request_params={"ResourceOwner": "SELF"},
    result_path="CertificateAuthorities[]",
    id_path="Arn",  # the ARN ends in a generated id; the CA has no other name
    arn_path="Arn",
    arn_template="",
    name_path="CertificateAuthorityConfiguration.Subject.CommonName",
    details=(
        tags_detail("ListTags", "CertificateAuthorityArn", "Arn", "ResourceNotFoundException"),
    ),
    volatile_fields=("Status", "LastStateChangeAt", "FailureReason"),
    refresh=Refresh(
        events=(
            EventRule(
                "acm-pca.amazonaws.com",
                (
                    "UpdateCertificateAuthority",
                    "DeleteCertificateAuthority",
                    "RestoreCertificateAuthority",
                ),
                "requestParameters.certificateAuthorityArn",
            ),
        ),
    ),
)

ENTRIES = (CERTIFICATE_AUTHORITY,)
