"""checkov, the IaC scanner of deploy/, in its own cached virtualenv.

checkov pins many libraries (boto3, networkx, ...) that fleetstream's own environment must not
be bound to, so it lives beside the Maven jars, in $FLEETSTREAM_CACHE (~/.cache/fleetstream)
/checkov-<version>, installed once with pip and reused by every run and every worktree.

Run: python -m devstack.scanner [DIRECTORY]  (prints checkov's findings)
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.errors import StackError
from devstack.stack import default_cache

CHECKOV_VERSION = "3.3.30"
_MARKER = ".installed"


def ensure_checkov(cache: Path | None = None) -> Path:
    """The checkov executable, installing it into its own virtualenv on first use."""
    home = (cache or default_cache(os.environ)) / f"checkov-{CHECKOV_VERSION}"
    executable = home / "bin" / "checkov"
    if (home / _MARKER).exists() and executable.exists():
        return executable
    home.parent.mkdir(parents=True, exist_ok=True)
    # Test runs of several worktrees share the cache: one installs while the others wait (an
    # install that another run's clear=True wiped half-way left a checkov without its module).
    with (home.parent / f"checkov-{CHECKOV_VERSION}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (home / _MARKER).exists() and executable.exists():
            return executable
        _install(home)
    if not executable.exists():
        raise StackError(f"installing checkov {CHECKOV_VERSION} left no {executable}")
    return executable


def _install(home: Path) -> None:
    """A fresh virtualenv at home with checkov in it; the marker says it is complete."""
    venv.EnvBuilder(with_pip=True, clear=True).create(home)
    log = home.parent / f"checkov-{CHECKOV_VERSION}-pip.log"
    with log.open("w") as out:
        done = subprocess.run(
            [str(home / "bin" / "python"), "-m", "pip", "install", f"checkov=={CHECKOV_VERSION}"],
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
            timeout=900,
        )
    if done.returncode != 0:
        raise StackError(f"installing checkov {CHECKOV_VERSION} failed; see {log}")
    (home / _MARKER).touch()


@dataclass(frozen=True)
class Finding:
    """One check on one resource: failed, or skipped with the template's justification."""

    check_id: str
    file: str
    resource: str
    comment: str = ""


@dataclass(frozen=True)
class ScanReport:
    """What checkov found in a directory of CloudFormation templates."""

    failed: tuple[Finding, ...]
    skipped: tuple[Finding, ...]
    passed: int
    parsing_errors: tuple[str, ...]
    files: frozenset[str]


def scan(directory: Path, cache: Path | None = None) -> ScanReport:
    """Run every CloudFormation check of checkov over the templates under directory."""
    checkov = ensure_checkov(cache)
    done = subprocess.run(
        [
            str(checkov),
            *("-d", str(directory), "--framework", "cloudformation", "-o", "json"),
            # Offline: no guideline links or severities fetched from the vendor's platform.
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    # Exit code 1 means "some check failed": the report says which; anything else is an error.
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise StackError(f"checkov exited with {done.returncode}: {done.stderr.strip()[-2000:]}")
    reports: Any = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed: list[Finding] = []
    skipped: list[Finding] = []
    passed = 0
    errors: list[str] = []
    files: set[str] = set()
    for report in reports:
        results = report.get("results", {})
        errors += report.get("results", {}).get("parsing_errors", [])
        passed += len(results.get("passed_checks", []))
        for kind, into in (("failed_checks", failed), ("skipped_checks", skipped)):
            for check in results.get(kind, []):
                files.add(check["file_path"])
                into.append(
                    Finding(
                        check["check_id"],
                        check["file_path"],
                        check["resource"],
                        (check.get("check_result") or {}).get("suppress_comment") or "",
                    )
                )
        files |= {c["file_path"] for c in results.get("passed_checks", [])}
    return ScanReport(tuple(failed), tuple(skipped), passed, tuple(errors), frozenset(files))


def main(argv: list[str] | None = None) -> int:
    """Scan a directory (default deploy/) and print the failed and skipped checks."""
    args = argv if argv is not None else sys.argv[1:]
    report = scan(Path(args[0] if args else "deploy"))
    for finding in report.failed:
        print(f"FAILED  {finding.check_id} {finding.file} {finding.resource}")
    for finding in report.skipped:
        print(f"skipped {finding.check_id} {finding.file} {finding.resource}: {finding.comment}")
    print(f"{report.passed} passed, {len(report.failed)} failed, {len(report.skipped)} skipped")
    return 1 if report.failed or report.parsing_errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
