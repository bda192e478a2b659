"""CLI conventions (issue 17 item 4): --version, --log-level, types list, config show|validate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import yaml
from click.testing import CliRunner

from fleetstream.apps.cli import _Context, main
from fleetstream.apps.global_options import hoist_global_options
from fleetstream.base.exit_codes import ExitCode
from fleetstream.catalog import CATALOG

SECRET = "https://hooks.example.test/services/T000/B000/very-secret-token"


def run(
    args: list[str], config: Path | None = None, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """`fleetstream [--config CONFIG] ARGS...` in this process (the group itself registers a
    faulthandler on the real stderr, which CliRunner replaces: its subcommands are invoked)."""
    result = CliRunner().invoke(main.commands[args[0]], args[1:], obj=_Context(config), env=env)
    return result.exit_code, result.stdout, result.stderr


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    """`fleetstream ARGS...` as a process: the real exit status and everything on stderr."""
    return subprocess.run(
        [sys.executable, "-m", "fleetstream", *args],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_version_is_the_package_version() -> None:
    done = run_process("--version")
    assert (done.returncode, done.stdout) == (
        0,
        f"fleetstream, version {metadata.version('fleetstream')}\n",
    )


def test_a_bad_log_level_is_a_one_line_usage_error() -> None:
    # Before the fix: logging's ValueError "Unknown level: 'BOGUS'" as a traceback, exit 1.
    done = run_process("--log-level", "bogus", "types", "list")
    assert done.returncode == 2, done.stderr  # ExitCode.USAGE
    assert done.stderr == (
        "fleetstream: error: invalid --log-level 'bogus': choose from "
        "DEBUG, INFO, WARNING, ERROR, CRITICAL\n"
    )
    assert done.stdout == ""


def test_a_log_level_in_any_case_is_accepted() -> None:
    done = run_process("--log-level", "debug", "types", "list", "-o", "json")
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)) == len(CATALOG)


def test_types_list_json_is_the_catalog() -> None:
    code, out, _ = run(["types", "list", "--output", "json"])
    assert code == 0
    rows = json.loads(out)
    assert [row["type"] for row in rows] == sorted(CATALOG)
    instance = next(row for row in rows if row["type"] == "ec2.instance")
    assert instance == {
        "type": "ec2.instance",
        "operation": CATALOG["ec2.instance"].operation,
        "scope": "regional",
    }


def test_types_list_table() -> None:
    code, out, _ = run(["types", "list"])
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["type", "operation", "scope"]
    assert len(lines) == len(CATALOG) + 2  # header, rule, one line per type
    assert any(line.split()[0] == "s3.bucket" and line.endswith("global") for line in lines)


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    config = tmp_path / "fleetstream.yaml"
    config.write_text("describer:\n  page_size: 50\n")
    env = {"FLEETSTREAM_NOTIFIER__WEBHOOK_URL": SECRET}
    code, out, _ = run(["config", "show"], config, env)
    assert code == 0, out
    shown = yaml.safe_load(out)
    assert shown["describer"]["page_size"] == 50
    assert shown["notifier"]["webhook_url"] == "**********"
    assert "very-secret-token" not in out
    code, out, _ = run(["config", "show", "-o", "json"], config, env)
    assert code == 0 and json.loads(out) == shown


def test_config_validate(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("describer:\n  page_size: 50\n")
    assert run(["config", "validate"], good)[:2] == (0, "config ok\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("kafka:\n  bootstrap_server: 127.0.0.1:9092\n")
    code, out, err = run(["config", "validate"], bad)
    assert (code, out) == (ExitCode.USAGE, "")
    assert err.startswith("fleetstream: error: ") and err.count("\n") == 1
    assert "unknown key 'kafka.bootstrap_server'" in err


def test_global_options_after_the_subcommand(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kafka:\n  bootstrap_server: 127.0.0.1:9092\n")
    done = run_process("config", "validate", "--config", str(bad))
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"fleetstream: error: invalid config in {bad}: unknown key 'kafka.bootstrap_server'\n"
    )
    done = run_process("types", "list", "--log-level=nope")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("fleetstream: error: invalid --log-level 'nope'")


def test_hoisting_global_options() -> None:
    assert hoist_global_options(["sweep", "-c", "x.yaml", "--timeout", "5"]) == [
        "-c",
        "x.yaml",
        "sweep",
        "--timeout",
        "5",
    ]
    assert hoist_global_options(["--log-level", "DEBUG", "dlq", "replay", "--config=y"]) == [
        "--log-level",
        "DEBUG",
        "--config=y",
        "dlq",
        "replay",
    ]
    # After `--` everything is the subcommand's.
    assert hoist_global_options(["query", "--", "--config"]) == ["query", "--", "--config"]
    assert hoist_global_options(["--version"]) == ["--version"]
