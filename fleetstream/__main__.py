"""`python -m fleetstream` is the `fleetstream` command."""

from fleetstream.cli import main

main()
