"""The long chaos run: `python -m tests.chaos --trials 50 --out chaos-report.md`.

Starts its own local stack, runs the trials (faults in rotation), prints and writes the table
trial -> fault -> outcome, and exits 1 if any trial failed. Every run draws a new seed (printed
first and written in the report); `--seed N` replays a run's random choices.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from devstack import LocalStack, StackError
from tests.chaos.harness import FAULTS, SEED_ENV, Trial, TrialResult, new_seed, report_table


def main() -> int:
    """Run the trials and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--out", type=Path, default=Path("chaos-report.md"))
    parser.add_argument(
        "--workdir", type=Path, help="Keep the stack and worker logs here (default: a temp dir)."
    )
    parser.add_argument(
        "--seed", type=int, help=f"Replay a run (default: ${SEED_ENV}, else a fresh seed)."
    )
    args = parser.parse_args()
    seed = new_seed() if args.seed is None else args.seed
    print(f"chaos seed {seed} (replay: python -m tests.chaos --seed {seed})", flush=True)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    faults = args.faults.split(",")
    results: list[TrialResult] = []
    with tempfile.TemporaryDirectory(prefix="fleetstream-chaos-") as scratch:
        workdir = args.workdir or Path(scratch)
        # A loaded machine (CI, other jobs) can take more than a minute to start the broker.
        stack = LocalStack(workdir / "stack", ready_timeout=180.0)
        stack.start()
        try:
            for number in range(1, args.trials + 1):
                fault = faults[(number - 1) % len(faults)]
                try:
                    result = Trial(stack, number, fault, workdir, seed).run()
                except StackError as exc:
                    # The harness' own broker restart failed: record it, bring the stack
                    # back, and go on with the next trial.
                    result = TrialResult(number, fault, seed, notes=[f"harness: {exc}"])
                    stack.start()
                results.append(result)
                print(report_table([result]).splitlines()[-1], flush=True)
        finally:
            stack.stop()
    table = report_table(results)
    passed = sum(r.ok for r in results)
    summary = f"{passed} passed, {len(results) - passed} failed; seed {seed}"
    args.out.write_text(
        f"# fleetstream chaos run, seed {seed}\n\n"
        f"Replay: `python -m tests.chaos --seed {seed} --trials {args.trials}`\n\n"
        f"{table}\n\n{summary}\n"
    )
    print(f"\n{table}\n\n{summary}")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
