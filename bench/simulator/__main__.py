"""Run the simulator: `python -m bench.simulator [--config JSON] [--port 0]`.

Prints `SIMULATOR http://127.0.0.1:PORT` once it accepts connections; SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from bench.simulator.config import SimConfig
from bench.simulator.estate import EstateSpec
from bench.simulator.server import make_server


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, bind, announce the URL and serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m bench.simulator")
    parser.add_argument("--config", help="SimConfig as JSON (see bench/simulator/config.py)")
    parser.add_argument("--accounts", type=int, help="shortcut: accounts of the estate")
    parser.add_argument("--regions", type=int, help="shortcut: regions per account")
    parser.add_argument("--instances", type=int, help="shortcut: instances per region")
    parser.add_argument("--no-limits", action="store_true", help="no latency, no throttling")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    config = SimConfig.from_json(args.config) if args.config else SimConfig()
    spec = config.estate
    if args.accounts is not None or args.regions is not None or args.instances is not None:
        spec = EstateSpec(
            seed=spec.seed,
            accounts=spec.accounts if args.accounts is None else args.accounts,
            region_count=spec.region_count if args.regions is None else args.regions,
            instances_per_region=(
                spec.instances_per_region if args.instances is None else args.instances
            ),
            hub_account_id=spec.hub_account_id,
            terminated_every=spec.terminated_every,
        )
    config = SimConfig(spec, config.latency, config.throttle, config.enabled and not args.no_limits)
    server = make_server(config, args.host, args.port)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return, so call it from another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"SIMULATOR {server.url}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
