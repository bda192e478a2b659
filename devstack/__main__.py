"""`python -m devstack` is `fleetstream stack`."""

from devstack.cli import cli

cli()
