"""docs/topics.md's tables are what the topic declarations (kafka/topics.py) render."""

from __future__ import annotations

import pytest

from tools.topics_doc import DOC, render

pytestmark = pytest.mark.unit


def test_the_topic_tables_are_current() -> None:
    text = DOC.read_text()
    assert render(text) == text, f"{DOC} is out of date: run `python -m tools.topics_doc --write`"
