"""docs/catalog.md lists every catalog type exactly as the catalog declares it."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetstream.catalog import CATALOG, CatalogEntry

pytestmark = pytest.mark.unit
DOC = Path(__file__).resolve().parents[2] / "docs" / "catalog.md"


def row(entry: CatalogEntry) -> str:
    """The table row of one type in docs/catalog.md."""
    listing = entry.operation
    if entry.parent is not None:
        listing = f"{entry.parent.operation} → {entry.operation}"
    details = ", ".join(
        d.operation + (f" (≤{d.batch_size} per call)" if d.batch_param else "")
        for d in entry.details
    )
    cells = (
        f"`{entry.type_name}`",
        entry.service,
        listing,
        details or "-",
        "yes" if entry.global_resource else "",
        ", ".join(f"`{p}`" for p in entry.permissions),
    )
    return "| " + " | ".join(cells) + " |"


def test_every_type_has_its_row() -> None:
    text = DOC.read_text()
    missing = [row(entry) for entry in CATALOG.values() if row(entry) not in text]
    assert not missing, "update docs/catalog.md:\n" + "\n".join(missing)


if __name__ == "__main__":  # print the table: python -m tests.unit.test_catalog_docs
    for entry in CATALOG.values():
        print(row(entry))
