"""A submitter key for the local stack, so `fleetstream act --execute` works against it,
and its redaction key (describer.redaction_key), so the describer starts.

Generated once per stack home (a file readable only by its owner) and named both as the
submitting side's key and as the planner's only submitter. Local use only: a deployment
keeps each submitter's key in Secrets Manager (docs/security.md).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from fleetstream.actions.registry import ACTIONS

DEV_SUBMITTER = "dev"
# Generous for a laptop estate, still bounded: the policy is enforced locally too.
DEV_MAX_TARGETS = 10_000


def dev_submitter_key(home: Path) -> Path:
    """The local stack's submitter key file (created on first use, mode 0600)."""
    return _dev_secret_file(home / "dev-submitter.key")


def dev_redaction_key(home: Path) -> Path:
    """The local stack's describer.redaction_key file (created on first use, mode 0600): kept
    under the home, so redacted fingerprints stay stable from one demo run to the next."""
    return _dev_secret_file(home / "dev-redaction.key")


def _dev_secret_file(path: Path) -> Path:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
    return path.resolve()


def dev_actions_config(key: dict[str, str], max_targets: int = DEV_MAX_TARGETS) -> dict[str, Any]:
    """The `actions:` settings of the local stack (key: a secret source, e.g. {"file": ...}):
    sign as dev, and a planner that trusts only dev, allows every action up to max_targets
    targets, shares only inside the estate and names no KMS key (add yours to
    actions.policy.kms_keys to share snapshots)."""
    return {
        # Copies, so that the YAML written from this has no anchors.
        "submitter": {"name": DEV_SUBMITTER, "key": dict(key)},
        "policy": {
            "submitters": {DEV_SUBMITTER: dict(key)},
            "actions": {name: {"max_targets": max_targets} for name in sorted(ACTIONS)},
            "target_accounts": ["estate"],
        },
    }
