"""JMESPath with compiled expressions cached process-wide."""

from __future__ import annotations

from functools import cache
from typing import Any

import jmespath
from jmespath.parser import ParsedResult


@cache
def compiled(expression: str) -> ParsedResult:
    """The parsed expression (parsed once per process)."""
    return jmespath.compile(expression)


def search(expression: str, data: object) -> Any:
    """JMESPath search with compiled expressions cached process-wide."""
    return compiled(expression).search(data)
