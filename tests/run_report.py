"""What a test run reports at its end, with or without pytest-xdist's workers.

`./dev test` runs the suite in two worker processes (pytest-xdist, a file per worker at a
time). The controller prints the summary, but the tests run in the workers, so:
- the chaos seed is drawn once, in the process where the run starts, and put in the
  environment before the workers start: every worker (and a run without workers) uses it;
- the measurements the tests make travel back from the workers with their results.
"""

from __future__ import annotations

import os

import pytest

from tests.chaos.harness import SEED_ENV, new_seed

_SEED = pytest.StashKey[int]()
_CHAOS_COLLECTED = pytest.StashKey[bool]()
# Lines tests append through the `measurements` fixture: numbers for notes and docs, never
# assertions on time. In a worker they are sent to the controller at the end of its session.
MEASUREMENTS: list[str] = []


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    """The run's chaos seed: $FLEETSTREAM_CHAOS_SEED to replay, else drawn here, once."""
    if not _is_worker(config):
        os.environ.setdefault(SEED_ENV, str(new_seed()))
    config.stash[_SEED] = int(os.environ[SEED_ENV]) if SEED_ENV in os.environ else new_seed()
    config.stash[_CHAOS_COLLECTED] = False


@pytest.fixture
def chaos_seed(pytestconfig: pytest.Config) -> int:
    """This run's chaos seed (the same in every worker)."""
    return pytestconfig.stash[_SEED]


@pytest.fixture
def measurements() -> list[str]:
    """Append a line to the run's measurement report."""
    return MEASUREMENTS


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if any(item.nodeid.startswith("tests/chaos/") for item in items):
        config.stash[_CHAOS_COLLECTED] = True


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: object, ids: list[str]) -> None:
    if any(i.startswith("tests/chaos/") for i in ids):
        config: pytest.Config = node.config  # type: ignore[attr-defined]
        config.stash[_CHAOS_COLLECTED] = True


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _is_worker(session.config):
        session.config.workeroutput["measurements"] = list(MEASUREMENTS)  # type: ignore[attr-defined]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    output = getattr(node, "workeroutput", {})
    MEASUREMENTS.extend(output.get("measurements", []))


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.stash[_SEED]
    return f"chaos seed {seed} (replay: {SEED_ENV}={seed})"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The measurements, and the chaos seed of a run that collected the chaos tests."""
    config = terminalreporter.config
    if MEASUREMENTS:
        terminalreporter.section("fleetstream measurements")
        for line in MEASUREMENTS:
            terminalreporter.write_line(line)
    if config.stash[_CHAOS_COLLECTED]:
        seed = config.stash[_SEED]
        terminalreporter.write_line(f"chaos seed {seed} (replay: {SEED_ENV}={seed})")
