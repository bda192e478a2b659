"""The chaos harness' verdict on a trial: what makes a trial pass (no servers needed)."""

from __future__ import annotations

import signal
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from fleetstream.runtime.workers import Worker, WorkerPool
from tests.chaos.harness import (
    FAULTS,
    TrialResult,
    WorkerExit,
    ask_to_leave,
    ci_faults,
    log_messages,
    report_table,
)

CLEAN = TrialResult(
    1,
    "kill",
    seed=42,
    lost=0,
    stale=0,
    wrongly_deleted=0,
    missing_tombstones=0,
    failed_shards_as_expected=True,
    dlq_found=0,
    duplicates=0,
    attributes_differ=0,
    injected={"SIGKILL": 3},
)


def test_a_clean_trial_passes() -> None:
    assert CLEAN.ok


def test_a_duplicate_observation_fails_the_trial() -> None:
    assert not replace(CLEAN, duplicates=1).ok


def test_attributes_that_differ_from_moto_fail_the_trial() -> None:
    assert not replace(CLEAN, attributes_differ=1).ok


def test_a_fault_that_missed_the_sweep_fails_the_trial() -> None:
    result = replace(CLEAN, injected={}, missed=[])
    result.count("SIGKILL", in_flight=False)
    assert result.missed == ["SIGKILL after the sweep had finished"]
    assert not result.ok
    hit = replace(CLEAN, injected={})
    hit.count("SIGKILL", in_flight=True)
    assert hit.injected == {"SIGKILL": 1}
    assert hit.ok


def test_a_worker_exit_the_harness_did_not_cause_fails_the_trial() -> None:
    log = (
        '{"ts": "t", "level": "CRITICAL", "logger": "fleetstream.runtime.loop", '
        '"message": "stuck"}\n'
        "Traceback | not JSON\n"
    )
    exit_ = WorkerExit("describer-0", 75, log_messages(log))
    result = replace(CLEAN, unexpected_exits=[exit_])
    assert not result.ok
    assert str(exit_) == (
        "describer-0 exited 75: CRITICAL fleetstream.runtime.loop: stuck / Traceback \\| not JSON"
    )
    assert str(exit_) in report_table([result])


def test_ci_runs_every_fault_kind_unless_told_otherwise() -> None:
    assert ci_faults({}) == FAULTS
    assert ci_faults({"FLEETSTREAM_CHAOS_FAULTS": "all"}) == FAULTS
    assert ci_faults({"FLEETSTREAM_CHAOS_FAULTS": "rebalance, clock"}) == ("rebalance", "clock")
    with pytest.raises(ValueError, match="unknown fault kinds"):
        ci_faults({"FLEETSTREAM_CHAOS_FAULTS": "meteor"})


def _worker(tmp_path: Path, command: list[str]) -> Worker:
    return Worker("sink", 2, subprocess.Popen(command), tmp_path / "sink-2.log", 0)


def test_a_worker_asked_to_leave_is_the_harness_exit_whatever_its_code(tmp_path: Path) -> None:
    # `sleep` has no SIGTERM handler: it exits -15, as a worker signalled before installing its
    # handler does; the rebalance trial once counted that as an unexpected exit.
    pool = WorkerPool(None, tmp_path)
    leaving = _worker(tmp_path, ["sleep", "60"])
    pool.workers.append(leaving)
    result = replace(CLEAN, fault="rebalance", notes=[])
    assert ask_to_leave(pool, leaving, result)
    assert leaving.process.returncode == -signal.SIGTERM
    assert leaving not in pool.workers
    assert result.ok and not result.unexpected_exits
    assert result.notes == [f"sink-2, asked to leave, exited {-signal.SIGTERM}"]


def test_a_worker_that_died_before_it_was_asked_to_leave_is_not_the_harness(
    tmp_path: Path,
) -> None:
    pool = WorkerPool(None, tmp_path)
    dead = _worker(tmp_path, ["sh", "-c", "exit 3"])
    dead.process.wait()
    pool.workers.append(dead)
    result = replace(CLEAN, fault="rebalance", notes=[])
    # Left in the pool, for _restart_the_dead to count as an exit of its own.
    assert not ask_to_leave(pool, dead, result)
    assert dead in pool.workers
