"""Errors of the inventory commands: one line each, and an exit code of their own."""

from __future__ import annotations

from fleetstream.base.errors import FleetstreamError


class InventoryCommandError(FleetstreamError):
    """A refused inventory command; exit_code tells scripts which refusal it was."""

    exit_code = 2


class BadQueryError(InventoryCommandError):
    """The SQL statement or --where predicate does not parse or does not run."""

    exit_code = 3


class UnknownTypeError(InventoryCommandError):
    """A --type glob matches no resource type."""

    exit_code = 4


class SnapshotMissingError(InventoryCommandError):
    """There is no snapshot to read (nothing exported yet, or the wrong directory)."""

    exit_code = 5


class NotFoundError(InventoryCommandError):
    """No resource with that ARN, in the table or the changes topic."""

    exit_code = 6
