"""The tables of docs/topics.md, generated from the topic declarations (kafka/topics.py).

    python -m tools.topics_doc          # print docs/topics.md as it should be
    python -m tools.topics_doc --write  # rewrite it in place

tests/unit/test_topics_doc.py fails when the committed file differs from what this renders.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from fleetstream.kafka import topics
from fleetstream.kafka.topics import Topic
from fleetstream.serde.avro import local_codec

DOC = Path(__file__).resolve().parents[1] / "docs" / "topics.md"
_DAY_MS = 24 * 3600 * 1000


def _days(ms: str) -> str:
    days = int(ms) / _DAY_MS
    return f"{days:g} day" + ("" if days == 1 else "s")


def kept(topic: Topic) -> str:
    """How long the topic keeps records, in words, from its configs."""
    config = topic.config
    parts = []
    if "retention.ms" in config:
        parts.append(_days(config["retention.ms"]))
    if config.get("cleanup.policy") == "compact":
        parts.append("compacted (`cleanup.policy=compact`)")
    if "delete.retention.ms" in config:
        parts.append(
            f"tombstones kept {_days(config['delete.retention.ms'])} (`delete.retention.ms`)"
        )
    if "compression.type" in config:
        parts.append(config["compression.type"])
    return ", ".join(parts)


def _stages(names: tuple[str, ...]) -> str:
    return f" (stages: {', '.join(f'`{name}`' for name in names)})" if names else ""


def _history(topic: Topic) -> str:
    assert topic.schema is not None
    versions = len(local_codec(topic.schema).texts)
    return ", ".join(f"`{topic.schema}.v{v}`" for v in range(1, versions + 1))


def registry_table() -> str:
    """Topic, its registry subject and the schema history registered under it."""
    rows = ["| topic | registry subject (TopicNameStrategy) | schema history registered |"]
    rows.append("|---|---|---|")
    for topic in topics.ALL:
        if topic.schema is None:
            rows.append(f"| `{topic.name}` | none: not Avro | |")
        else:
            rows.append(f"| `{topic.name}` | `<prefix>{topic.name}-value` | {_history(topic)} |")
    return "\n".join(rows)


def topics_table() -> str:
    """One row per topic: key, value, partitioning, retention, who writes and reads it."""
    rows = ["| topic | key | value | partitioning | kept | producer | consumer |"]
    rows.append("|---|---|---|---|---|---|---|")
    for topic in topics.ALL:
        value = topic.value
        if topic.schema is not None:
            newest = len(local_codec(topic.schema).texts)
            value += f" (`{topic.schema}.v{newest}.avsc`)"
        cells = (
            f"`{topic.name}`",
            topic.key,
            value,
            topic.partitioning,
            kept(topic),
            topic.produced + _stages(topic.producers),
            topic.consumed + _stages(topic.consumers),
        )
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _literal(value: str) -> Callable[[re.Match[str]], str]:
    # A function, not a replacement string: re.sub would expand backslashes in the tables.
    return lambda _: value


def render(text: str) -> str:
    """The document with its generated tables replaced by what the declarations say."""
    for name, table in (("registry", registry_table()), ("topics", topics_table())):
        begin, end = f"<!-- generated: {name} -->", f"<!-- end generated: {name} -->"
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
        if not pattern.search(text):
            raise ValueError(f"{DOC} has no {begin} ... {end} section")
        text = pattern.sub(_literal(f"{begin}\n{table}\n{end}"), text)
    return text


def main(argv: list[str]) -> None:
    """Print the rendered document, or write it with --write."""
    rendered = render(DOC.read_text())
    if "--write" in argv:
        DOC.write_text(rendered)
    else:
        sys.stdout.write(rendered)


if __name__ == "__main__":
    main(sys.argv[1:])
