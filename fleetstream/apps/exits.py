"""How a known failure ends a command: one line on stderr and its ExitCode."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from fleetstream.base.errors import FleetstreamError, UnavailableError
from fleetstream.base.exit_codes import ExitCode


def exit_code_of(exc: FleetstreamError) -> ExitCode:
    """An outage is worth a retry; every other known failure needs a person (usage/config)."""
    return ExitCode.UNAVAILABLE if isinstance(exc, UnavailableError) else ExitCode.USAGE


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    """Print `fleetstream: error: <message>` and exit with code."""
    click.echo(f"fleetstream: error: {message}", err=True)
    sys.exit(code)
