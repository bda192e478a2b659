"""Rewrite fleetstream's pre-layers module paths to the layered ones, in place.

    python tools/rewrite_imports.py PATH...        (files or directories)

The core moved into floors (docs/architecture.md); a branch written against the old flat
modules runs this over its tree after merging. Python files get their imports, dotted
strings (mock targets, `-m` arguments, Lambda handler names) and `fleetstream/x.py` paths
rewritten; other text files named explicitly (Markdown, YAML, Dockerfile, scripts) get the
dotted names and paths. Directories are walked for *.py, *.md, *.yaml, *.yml and *.toml
(never schemas/*.avsc, whose Avro namespaces look like module paths). Running it twice
changes nothing the second time. Afterwards: `ruff check --fix . && ruff format .` sorts
the imports it split.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

# Whole modules (and the two packages at the end) and where they live now.
MODULES: dict[str, str] = {
    "fleetstream.errors": "fleetstream.base.errors",
    "fleetstream.models": "fleetstream.base.models",
    "fleetstream.config": "fleetstream.base.config",
    "fleetstream.logs": "fleetstream.base.logs",
    "fleetstream.retry": "fleetstream.base.retry",
    "fleetstream.metrics": "fleetstream.base.metrics",
    "fleetstream.continuous_metrics": "fleetstream.base.continuous_metrics",
    "fleetstream.kafka": "fleetstream.kafka.clients",
    "fleetstream.kafka_admin": "fleetstream.kafka.admin",
    "fleetstream.kafka_auth": "fleetstream.kafka.auth",
    "fleetstream.kafka_acl": "fleetstream.kafka.acl",
    "fleetstream.kafka_iam": "fleetstream.kafka.iam",
    "fleetstream.msk": "fleetstream.base.msk",
    "fleetstream.serde": "fleetstream.serde.avro",
    "fleetstream.schema_registry": "fleetstream.serde.registry",
    "fleetstream.wire": "fleetstream.serde.wire",
    "fleetstream.aws": "fleetstream.aws.clients",
    "fleetstream.aws_errors": "fleetstream.aws.errors",
    "fleetstream.aws_metrics": "fleetstream.aws.metrics",
    "fleetstream.ratelimit": "fleetstream.aws.ratelimit",
    "producers.accounts": "fleetstream.aws.accounts",
    "fleetstream.dynamodb": "fleetstream.inventory.dynamodb",
    "fleetstream.sweeps": "fleetstream.inventory.sweeps",
    "fleetstream.inventory_read": "fleetstream.inventory.read",
    "fleetstream.report": "fleetstream.inventory.report",
    "fleetstream.loop": "fleetstream.runtime.loop",
    "fleetstream.records": "fleetstream.runtime.records",
    "fleetstream.workers": "fleetstream.runtime.workers",
    "fleetstream.cli": "fleetstream.apps.cli",
    "fleetstream.oneshot": "fleetstream.apps.oneshot",
    "fleetstream.demo": "fleetstream.apps.demo",
    "fleetstream.dlq": "fleetstream.apps.dlq_replay",
    "fleetstream.dlq_progress": "fleetstream.apps.dlq_progress",
    "fleetstream.preflight": "fleetstream.apps.preflight",
    "fleetstream.progress": "fleetstream.apps.progress",
    "fleetstream.member_role": "fleetstream.apps.member_role",
    "fleetstream.actions.cli": "fleetstream.apps.actions_cli",
    "fleetstream.catalog.cli": "fleetstream.apps.catalog_cli",
    # Packages: everything under them moved along.
    "fleetstream.lambda_mode": "fleetstream.apps.lambda_mode",
    "fleetstream.devstack": "devstack",
}
PACKAGES = {"fleetstream.lambda_mode", "fleetstream.devstack"}

# Functions that moved down a floor so that no group imports another: (old module, name).
SYMBOLS: dict[tuple[str, str], str] = {
    ("consumers.actor.main", "step_record"): "fleetstream.actions.wire",
    ("consumers.lag.status", "pending_records"): "fleetstream.kafka.admin",
}

# Old modules that became packages: a dotted name followed by one of these children is new.
CHILDREN: dict[str, set[str]] = {
    "fleetstream.kafka": {"clients", "admin", "auth", "acl", "iam"},
    "fleetstream.serde": {"avro", "registry", "wire"},
    "fleetstream.aws": {"clients", "errors", "metrics", "ratelimit", "accounts"},
}

SKIP_MARKER = "rewrite_imports: " + "leave this file alone"
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml"}
SKIP = {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache"}

_DOTTED = re.compile(
    r"(?<![\w.])("
    + "|".join(re.escape(m) for m in sorted(MODULES, key=len, reverse=True))
    + r")(?![\w])((?:\.\w+)*)"
)
_IMPORTED = re.compile(r"[ \t]+import[ \t]+\(?\s*(\w+)")
_FROM_IMPORT = re.compile(
    r"^(?P<indent>[ \t]*)from[ \t]+(?P<module>[\w.]+)[ \t]+import[ \t]+"
    r"(?P<names>\([^)]*\)|[^\n#]*[^\s#\\])(?P<comment>[ \t]*#[^\n]*)?$",
    re.MULTILINE,
)
_PATHS: dict[str, str] = {
    "fleetstream/devstack/": "devstack/",
    "fleetstream/lambda_mode/": "fleetstream/apps/lambda_mode/",
    **{
        old.replace(".", "/") + ".py": new.replace(".", "/") + ".py"
        for old, new in MODULES.items()
        if old not in PACKAGES
    },
}
_PATH = re.compile(
    r"(?<![\w/])(" + "|".join(re.escape(p) for p in sorted(_PATHS, key=len, reverse=True)) + r")"
)


def new_module(dotted: str) -> str:
    """The module path of `dotted` after the move (unchanged when it did not move)."""
    match = _DOTTED.fullmatch(dotted)
    return _rewrite_dotted(match) if match else dotted


def _rewrite_dotted(match: re.Match[str]) -> str:
    old, rest = match.group(1), match.group(2)
    first = rest[1:].split(".", 1)[0] if rest else ""
    children = CHILDREN.get(old, set())
    if first and first in children:
        return match.group(0)  # already a new path: fleetstream.kafka.clients...
    imported = _IMPORTED.match(match.string, match.end())
    if not rest and imported and imported.group(1) in children:
        return match.group(0)  # already new: from fleetstream.kafka import clients
    return MODULES[old] + rest


def _split_names(names: str) -> list[tuple[str, str | None]]:
    body = names.strip().removeprefix("(").removesuffix(")")
    body = re.sub(r"#[^\n]*", "", body)
    result: list[tuple[str, str | None]] = []
    for part in body.replace("\n", " ").split(","):
        words = part.split()
        if not words:
            continue
        result.append((words[0], words[2] if len(words) == 3 and words[1] == "as" else None))
    return result


def _render(indent: str, module: str, names: list[tuple[str, str | None]]) -> str:
    parts = [f"{name} as {alias}" if alias else name for name, alias in names]
    line = f"{indent}from {module} import {', '.join(parts)}"
    if len(line) <= 100:
        return line
    inner = "".join(f"{indent}    {p},\n" for p in parts)
    return f"{indent}from {module} import (\n{inner}{indent})"


def _rewrite_from_import(match: re.Match[str]) -> str:
    indent, module = match.group("indent"), match.group("module")
    comment = match.group("comment") or ""
    names = _split_names(match.group("names"))
    children = CHILDREN.get(module, set())
    statements: list[str] = []
    rest: dict[str, list[tuple[str, str | None]]] = {}
    for name, alias in names:
        moved = SYMBOLS.get((module, name))
        submodule = f"{module}.{name}"
        if moved:
            rest.setdefault(moved, []).append((name, alias))
        elif name not in children and new_module(submodule) != submodule:
            target = new_module(submodule)
            parent, _, leaf = target.rpartition(".")
            bound = alias or name
            if not parent:
                statements.append(
                    f"{indent}import {leaf}" + (f" as {bound}" if bound != leaf else "")
                )
            else:
                statements.append(
                    _render(indent, parent, [(leaf, bound if bound != leaf else None)])
                )
        else:
            target_module = module if name in children else new_module(module)
            rest.setdefault(target_module, []).append((name, alias))
    statements.extend(_render(indent, target, group) for target, group in rest.items())
    if not statements:
        return match.group(0)
    text = "\n".join(statements) + comment
    original = match.group(0)
    # Keep a statement untouched when nothing in it moved (its layout stays the author's).
    if len(statements) == 1 and next(iter(rest), None) == module and not comment:
        return original
    return text


def rewrite(text: str, *, python: bool) -> str:
    """The text with every old module path, import and file path replaced."""
    text = _DOTTED.sub(_rewrite_dotted, text)
    if python:
        text = _FROM_IMPORT.sub(_rewrite_from_import, text)
    return _PATH.sub(lambda m: _PATHS[m.group(1)], text)


def files(paths: Iterable[str]) -> Iterator[Path]:
    """The files named, and the text files under the directories named."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                skip = {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache"}
                if (
                    found.is_file()
                    and found.suffix in TEXT_SUFFIXES
                    and not skip & set(found.parts)
                ):
                    yield found
        elif path.is_file():
            yield path


def main(argv: list[str]) -> int:
    """Rewrite the files in place; print the ones that changed."""
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    for path in files(argv):
        if path.suffix == ".avsc" or path.resolve() == Path(__file__).resolve():
            continue
        before = path.read_text()
        if SKIP_MARKER in before:
            continue  # this tool's own fixtures: old paths on purpose
        after = rewrite(before, python=path.suffix == ".py")
        if after != before:
            path.write_text(after)
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
