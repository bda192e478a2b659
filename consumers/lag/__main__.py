"""`python -m consumers.lag lag-exporter ...`: the fleetstream CLI with the exporter registered."""

from consumers.lag.cli import lag_exporter_command
from fleetstream.cli import main

if "lag-exporter" not in main.commands:
    main.add_command(lag_exporter_command)

main()
