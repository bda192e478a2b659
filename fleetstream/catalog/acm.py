"""Certificate Manager resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry, Detail

CERTIFICATE = CatalogEntry(
    type_name="acm.certificate",
    operation="ListCertificates",
    result_path="CertificateSummaryList[]",
    id_path="CertificateArn",  # domain names repeat across certificates
    arn_path="CertificateArn",
    arn_template="",
    name_path="DomainName",
    details=(
        Detail(
            "ListTagsForCertificate",
            {"CertificateArn": "CertificateArn"},
            "Tags",
            into="Tags",
            absent_codes=("ResourceNotFoundException",),
        ),
    ),
)

ENTRIES = (CERTIFICATE,)
