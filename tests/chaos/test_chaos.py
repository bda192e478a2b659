"""The short chaos run of CI: one trial of every fault kind against the real local stack
(FLEETSTREAM_CHAOS_FAULTS=kind,kind runs only those).

The long run: `python -m tests.chaos --trials 50 --out chaos-report.md`. The seed is in the
header of pytest's output; FLEETSTREAM_CHAOS_SEED=<seed> replays it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devstack import LocalStack
from fleetstream.runtime.loop import STUCK_EXIT_CODE
from tests.chaos.harness import BROKER_FAULTS, Trial, WorkerExit, ci_faults, report_table

pytestmark = pytest.mark.chaos


@pytest.mark.parametrize("fault", ci_faults(os.environ))
def test_trial_loses_nothing_and_deletes_only_what_is_gone(
    devstack: LocalStack, fault: str, tmp_path: Path, chaos_seed: int
) -> None:
    result = Trial(devstack, 1, fault, tmp_path, chaos_seed).run()
    table = report_table([result])
    print(f"chaos seed {chaos_seed}\n{table}")
    assert result.lost == 0, table
    assert result.stale == 0, table
    assert result.wrongly_deleted == 0, table
    assert result.missing_tombstones == 0, table
    assert result.failed_shards_as_expected, table
    assert result.dlq_found == result.dlq_expected, table
    # Every live item's attributes equal moto's describe output, volatile fields aside.
    assert result.attributes_differ == 0, table
    # Exactly once: no observation reached the resources topic twice.
    assert result.duplicates == 0, table
    # The fault really happened, and while the sweep was in flight.
    assert result.injected, table
    assert not result.missed, table
    # Every restart was the harness's: no worker died of the fault. One known gap is marked,
    # not hidden (the trial is still FAIL in the report; every check above still holds): after
    # the broker comes back (restarted, SIGKILLed or frozen) librdkafka can block a
    # describer's send_offsets_to_transaction past its timeout (librdkafka issue 5456: the
    # coordinator request's timeout is never checked; 5511 compounds it) until the commit
    # watchdog exits it with code 75 for its supervisor to restart. No client setting reaches
    # that code path, and the blocked call cannot be aborted in-process (any other
    # transactional call conflicts with it), so exiting is the recovery.
    if (
        fault in BROKER_FAULTS
        and result.unexpected_exits
        and all(map(_watchdog, result.unexpected_exits))
    ):
        pytest.xfail(f"known gap, issue 13: the commit watchdog exited a describer\n{table}")
    assert not result.unexpected_exits, table
    assert result.ok, table


def _watchdog(exit_: WorkerExit) -> bool:
    return exit_.code == STUCK_EXIT_CODE and any(
        "stuck past the watchdog" in line for line in exit_.log_tail
    )
