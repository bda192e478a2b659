"""The floors of docs/architecture.md hold: import-linter's contracts (pyproject.toml) pass.

The ground floor never imports a group, an application or the dev tooling; no group imports
another; applications sit on top. A new import that breaks a floor fails here, with
lint-imports' report of the offending chain in the assertion message.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def test_every_import_contract_is_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
