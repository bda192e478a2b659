"""The wheel on its own: built from the tree, installed into a fresh virtualenv, it sweeps.

Everything else in the suite imports fleetstream from the checkout; only this test sees what
`pip install fleetstream` gives a user: the schemas inside the package, the consumer groups and
producers under fleetstream's own name, nothing generic at the top of site-packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from devstack import StackEndpoints
from devstack.seed import EstateSpec, seed_estate
from fleetstream.base.config import Settings
from tests.integration.helpers import inventory_facts, settings_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# What the build reads; copied aside so the build's egg-info and build/ never land in the tree.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "fleetstream", "producers", "consumers")
# Only the folders that hold package data, copied when present (the test runs on old trees too).
DATA = ("schemas",)


def _run(command: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{command[:4]} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


def build_wheel(out: Path) -> Path:
    """Build fleetstream's wheel offline with the test venv's own setuptools."""
    src = out / "src"
    for name in (*SOURCES, *DATA):
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif path.exists():
            src.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out), "."],
        cwd=src,
    )
    (wheel,) = out.glob("fleetstream-*.whl")
    return wheel


def fresh_venv(path: Path, wheel: Path) -> Path:
    """A new virtualenv holding fleetstream from the wheel; its dependencies are the test
    venv's (a .pth line), so nothing is downloaded. Returns its python."""
    _run([sys.executable, "-m", "venv", "--without-pip", str(path)])
    python = path / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", str(python)]
    _run([*pip, "install", "--no-deps", "--no-index", str(wheel)])
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(_run([str(python), "-c", purelib]).strip())
    # Appended after the venv's own site-packages: the wheel's fleetstream comes first, and the
    # checkout's editable install (a .pth inside the test venv) is not processed from here.
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python


def outside_the_checkout() -> dict[str, str]:
    """The environment without anything that would put the checkout on the path."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def test_wheel_installs_on_its_own_and_sweeps(
    local_stack: StackEndpoints,
    pipeline: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    wheel = build_wheel(tmp_path / "dist")

    venv = tmp_path / "venv"
    python = fresh_venv(venv, wheel)
    env = outside_the_checkout()
    # fleetstream and its groups both come from the wheel, not from the checkout.
    where = _run(
        [
            str(python),
            "-c",
            "import fleetstream, consumers.sink.main as m; print(fleetstream.__file__, m.__file__)",
        ],
        env=env,
        cwd=tmp_path,
    ).split()
    assert all(Path(path).is_relative_to(venv) for path in where), where

    usage = _run([str(venv / "bin" / "fleetstream"), "--help"], env=env, cwd=tmp_path)
    assert "sweep" in usage

    # A real sweep of a small estate: the planner, describers and sinks all run from the wheel.
    assert local_stack.aws_endpoint
    estate = seed_estate(
        local_stack.aws_endpoint,
        EstateSpec(member_accounts=1, regions=("us-east-1",), paged_region=None),
    )
    settings = settings_for(monkeypatch, estate)
    command = [str(venv / "bin" / "fleetstream"), "sweep", "--describers", "1", "--sinks", "1"]
    _run(
        [*command, "--timeout", "300", "--log-dir", str(tmp_path / "logs")],
        env=outside_the_checkout(),
        cwd=tmp_path,
    )
    assert inventory_facts(settings) == estate.truth()

    # Under fleetstream's own name only (no generic `producers` or `consumers` beside the
    # user's own packages), with every schema the checkout has.
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if ".dist-info/" not in name}
    assert top == {"fleetstream"}, sorted(top)
    shipped = {Path(n).name for n in names if n.startswith("fleetstream/schemas/")}
    assert shipped == {p.name for p in (ROOT / "schemas").glob("*.avsc")}
