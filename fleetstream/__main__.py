"""`python -m fleetstream` is the `fleetstream` command."""

from fleetstream.apps.cli import main

main()
