"""The container image installs Python dependencies from a hash-locked file (requirements.lock):
every runtime dependency of pyproject.toml is pinned there, with hashes, to a version its
range allows, and the Dockerfile installs from it with --require-hashes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
# A pinned entry: "name==version \" then its "--hash=sha256:<64 hex>" lines.
_ENTRY = re.compile(
    r"^([A-Za-z0-9][\w.-]*)==(\S+)((?:\s*\\\s*\n\s*--hash=sha256:[0-9a-f]{64})+)", re.M
)


def runtime_requirements() -> list[Requirement]:
    """What the image needs: the dependencies, the lambda extra and the build backend."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["lambda"],
        *project["build-system"]["requires"],
    ]
    return [Requirement(name) for name in names]


def locked() -> dict[str, tuple[str, int]]:
    """name -> (pinned version, how many hashes)."""
    text = (ROOT / "requirements.lock").read_text()
    return {
        canonicalize_name(name): (version, hashes.count("--hash="))
        for name, version, hashes in _ENTRY.findall(text)
    }


def test_every_runtime_dependency_is_pinned_with_hashes_in_the_lock() -> None:
    pins = locked()
    for requirement in runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not pinned with hashes in requirements.lock"
        version, hashes = pins[name]
        assert hashes >= 1, name
        assert requirement.specifier.contains(version, prereleases=True), (
            f"requirements.lock pins {name}=={version}, outside pyproject.toml's {requirement}"
        )


def test_every_entry_of_the_lock_carries_hashes() -> None:
    # pip's --require-hashes refuses the whole file if one entry lacks a hash.
    text = (ROOT / "requirements.lock").read_text()
    pinned = re.findall(r"^[A-Za-z0-9][\w.-]*==", text, re.M)
    assert len(pinned) == len(locked())


def test_the_image_installs_only_from_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"pip install [^\n]*--require-hashes[^\n]*-r requirements\.lock", dockerfile)
    # The package itself: no dependency resolution, no index, no isolated build (whose
    # setuptools would come unhashed from the index).
    assert re.search(r"pip install --no-deps --no-index --no-build-isolation \.", dockerfile)
