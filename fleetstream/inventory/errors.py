"""Errors of the inventory commands: one line each, and an exit code of their own."""

from __future__ import annotations

from fleetstream.base.errors import FleetstreamError
from fleetstream.base.exit_codes import ExitCode


class InventoryCommandError(FleetstreamError):
    """A refused inventory command; exit_code tells scripts which refusal it was."""

    exit_code: int = ExitCode.USAGE


class BadQueryError(InventoryCommandError):
    """The SQL statement or --where predicate does not parse or does not run."""

    exit_code = ExitCode.BAD_QUERY


class UnknownTypeError(InventoryCommandError):
    """A --type glob matches no resource type."""

    exit_code = ExitCode.UNKNOWN_TYPE


class SnapshotMissingError(InventoryCommandError):
    """There is no snapshot to read (nothing exported yet, or the wrong directory)."""

    exit_code = ExitCode.NO_SNAPSHOT


class NotFoundError(InventoryCommandError):
    """No resource with that ARN, in the table or the changes topic."""

    exit_code = ExitCode.NOT_FOUND
