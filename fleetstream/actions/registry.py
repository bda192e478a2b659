"""Every action fleetstream can take: its targets, parameters, IAM permissions and batching.

Declarative, like the catalog: the actor implements each name (consumers/actor/), the CLI
validates requests against it, and `fleetstream iam-policy --actions` turns the permissions
into the member role's policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fleetstream.base.errors import FleetstreamError


class ActionError(FleetstreamError):
    """An action request that cannot be accepted (unknown action, bad parameters, selector)."""


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One action: what it targets, what it needs, how it batches."""

    name: str
    summary: str
    resource_types: tuple[str, ...]
    permissions: tuple[str, ...]
    # Targets per batch (one batch = one account-region chunk; its API calls carry up to
    # this many ids each where the API allows several).
    max_batch: int
    required_params: tuple[str, ...] = ()
    optional_params: tuple[str, ...] = ()
    # Tag actions take any Key=Value pairs as their parameters.
    free_params: bool = False
    # A workflow's first step (None: a batch action, whose one step is "batch"); the actor's
    # implementation continues from there (consumers/actor/rds_workflow.py).
    first_step: str | None = None
    batching: str = ""
    # Parameters naming an AWS account the action gives something to, and parameters naming
    # a KMS key: the planner's policy bounds both (actions.policy.target_accounts, kms_keys).
    account_params: tuple[str, ...] = ()
    kms_key_params: tuple[str, ...] = ()

    @property
    def workflow(self) -> bool:
        return self.first_step is not None

    def validate(self, resource_type: str, params: Mapping[str, str]) -> None:
        """Raise ActionError with one actionable line when the request does not fit."""
        if resource_type not in self.resource_types:
            raise ActionError(
                f"action {self.name!r} does not apply to {resource_type!r} "
                f"(it applies to {', '.join(self.resource_types)})"
            )
        missing = [p for p in self.required_params if not params.get(p)]
        if missing:
            raise ActionError(f"action {self.name!r} needs --set {'=... --set '.join(missing)}=...")
        if self.free_params:
            if not params:
                raise ActionError(f"action {self.name!r} needs at least one --set Key[=Value]")
            return
        unknown = sorted(set(params) - set(self.required_params) - set(self.optional_params))
        if unknown:
            raise ActionError(f"action {self.name!r} has no parameter {', '.join(unknown)}")


_TAGGABLE_EC2 = (
    "ec2.instance",
    "ec2.volume",
    "ec2.snapshot",
    "ec2.image",
    "ec2.security_group",
    "ec2.vpc",
    "ec2.subnet",
)
_TAG_API_TYPES = ("rds.db_cluster", "rds.db_instance", "lambda.function", "sqs.queue")

ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            name="tag",
            summary="add or overwrite tags (--set Key=Value ...)",
            resource_types=_TAGGABLE_EC2 + _TAG_API_TYPES,
            permissions=("ec2:CreateTags", "tag:TagResources"),
            max_batch=1000,
            free_params=True,
            batching="EC2 types: one CreateTags per batch (up to 1,000 ids); others: "
            "resource groups tagging TagResources, 20 ARNs per call",
        ),
        ActionSpec(
            name="untag",
            summary="remove tags (--set Key removes it; --set Key=Value only if it has that value)",
            resource_types=_TAGGABLE_EC2 + _TAG_API_TYPES,
            permissions=("ec2:DeleteTags", "tag:UntagResources"),
            max_batch=1000,
            free_params=True,
            batching="EC2 types: one DeleteTags per batch (up to 1,000 ids); others: "
            "UntagResources, 20 ARNs per call",
        ),
        ActionSpec(
            name="stop",
            summary="stop EC2 instances",
            resource_types=("ec2.instance",),
            permissions=("ec2:StopInstances", "ec2:DescribeInstances"),
            max_batch=100,
            batching="one StopInstances per batch (up to 100 ids)",
        ),
        ActionSpec(
            name="start",
            summary="start EC2 instances",
            resource_types=("ec2.instance",),
            permissions=("ec2:StartInstances", "ec2:DescribeInstances"),
            max_batch=100,
            batching="one StartInstances per batch (up to 100 ids)",
        ),
        ActionSpec(
            name="snapshot",
            summary="create an EBS snapshot of each volume",
            resource_types=("ec2.volume",),
            permissions=("ec2:CreateSnapshot", "ec2:CreateTags", "ec2:DescribeSnapshots"),
            max_batch=50,
            optional_params=("description",),
            batching="one DescribeSnapshots per batch (finds snapshots a crashed attempt "
            "made), then one CreateSnapshot per volume",
        ),
        ActionSpec(
            name="rds-snapshot-share",
            summary="workflow: snapshot a cluster, copy it with a KMS key, share the copy",
            resource_types=("rds.db_cluster",),
            permissions=(
                "rds:CreateDBClusterSnapshot",
                "rds:DescribeDBClusterSnapshots",
                "rds:CopyDBClusterSnapshot",
                "rds:ModifyDBClusterSnapshotAttribute",
                "rds:AddTagsToResource",
                "kms:CreateGrant",
                "kms:DescribeKey",
            ),
            max_batch=1,
            required_params=("kms_key_id", "target_account"),
            account_params=("target_account",),
            kms_key_params=("kms_key_id",),
            first_step="create",
            batching="one execution per cluster, one message per step; waits are delayed "
            "re-checks on the action-delay topic",
        ),
    )
}


def action_spec(name: str) -> ActionSpec:
    """The spec of an action, or ActionError naming the ones that exist."""
    spec = ACTIONS.get(name)
    if spec is None:
        raise ActionError(f"unknown action {name!r} (known: {', '.join(sorted(ACTIONS))})")
    return spec


def action_permissions(names: list[str] | None = None) -> list[str]:
    """The IAM actions the given actions (default: all) need, sorted."""
    specs = [action_spec(n) for n in names] if names else list(ACTIONS.values())
    return sorted({p for spec in specs for p in spec.permissions})
