"""`python -m fleetstream.devstack` is `fleetstream stack`."""

from fleetstream.devstack.cli import cli

cli()
