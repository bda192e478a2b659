"""README's and docs/catalog.md's type tables are generated from the catalog, never hand-kept."""

from __future__ import annotations

import dataclasses

import pytest

from fleetstream.catalog import CATALOG
from tools.catalog_docs import BEGIN, END, catalog_table, outputs, readme_table, rendered, row

pytestmark = pytest.mark.unit


def test_the_committed_tables_are_the_generators_output() -> None:
    stale = [path.name for path, text in outputs().items() if path.read_text() != text]
    assert not stale, f"{stale} out of date with the catalog: run `python -m tools.catalog_docs`"


def test_every_type_has_its_row_and_its_permissions() -> None:
    table = catalog_table()
    for entry in CATALOG.values():
        assert row(entry) in table
        assert all(f"`{p}`" in row(entry) for p in entry.permissions)
    assert table.startswith(f"{len(CATALOG)} resource types in ")
    for entry in CATALOG.values():
        assert entry.kind in readme_table()


def test_a_changed_entry_makes_the_table_stale() -> None:
    entry = CATALOG["sqs.queue"]
    changed = dataclasses.replace(entry, details=entry.details[:1])
    assert row(changed) != row(entry)
    assert "sqs:ListQueueTags" not in row(changed)


def test_only_the_block_is_rewritten() -> None:
    text = f"prose before\n{BEGIN}\nold table\n{END}\nprose after\n"
    assert rendered(text, "new") == f"prose before\n{BEGIN}\nnew\n{END}\nprose after\n"
    with pytest.raises(ValueError, match="block"):
        rendered("no markers here", "new")
