"""Secrets Manager resource types: metadata only (ListSecrets), never a secret value."""

from __future__ import annotations

from fleetstream.catalog.entry import CatalogEntry

SECRET = CatalogEntry(
    type_name="secretsmanager.secret",
    operation="ListSecrets",
    result_path="SecretList[]",
    id_path="Name",
    arn_path="ARN",
    arn_template="",
    name_path="Name",
    volatile_fields=("LastAccessedDate",),
    # What a managed external secret's rotation needs at its partner: can be credentials.
    sensitive_fields=("ExternalSecretRotationMetadata[].Value",),
)

ENTRIES = (SECRET,)
