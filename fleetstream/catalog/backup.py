"""AWS Backup resource types."""

from __future__ import annotations

from fleetstream.catalog.entry import (
    CatalogEntry,
    EventRule,
    Refresh,
    Relation,
    TagStyle,
    tags_detail,
)
from fleetstream.catalog.entry import RelationName as R

_BACKUP = "backup.amazonaws.com"


BACKUP_PLAN = CatalogEntry(
    type_name="backup.backup_plan",
    operation="ListBackupPlans",
    result_path="BackupPlansList[]",
    id_path="BackupPlanId",
    arn_path="BackupPlanArn",
    arn_template="arn:{partition}:backup:{region}:{account_id}:backup-plan:{id}",
    name_path="BackupPlanName",
    tag_style=TagStyle.MAP,
    details=(tags_detail("ListTags", "ResourceArn", "BackupPlanArn", "ResourceNotFoundException"),),
    volatile_fields=("LastExecutionDate",),
    refresh=Refresh(
        events=(
            EventRule(
                _BACKUP, ("UpdateBackupPlan", "DeleteBackupPlan"), "requestParameters.backupPlanId"
            ),
        ),
    ),
)

BACKUP_VAULT = CatalogEntry(
    type_name="backup.backup_vault",
    operation="ListBackupVaults",
    result_path="BackupVaultList[]",
    id_path="BackupVaultName",
    arn_path="BackupVaultArn",
    arn_template="arn:{partition}:backup:{region}:{account_id}:backup-vault:{id}",
    name_path="BackupVaultName",
    tag_style=TagStyle.MAP,
    details=(
        tags_detail("ListTags", "ResourceArn", "BackupVaultArn", "ResourceNotFoundException"),
    ),
    volatile_fields=("NumberOfRecoveryPoints",),
    relations=(Relation(R.IS_ASSOCIATED_WITH, "EncryptionKeyArn", "kms.key"),),
    refresh=Refresh(
        events=(
            EventRule(
                _BACKUP,
                ("CreateBackupVault", "DeleteBackupVault", "PutBackupVaultLockConfiguration"),
                "requestParameters.backupVaultName",
            ),
        ),
    ),
)

ENTRIES = (BACKUP_PLAN, BACKUP_VAULT)
