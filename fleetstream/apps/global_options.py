"""Global options after the subcommand too (`fleetstream sweep --config x.yaml`), as in the AWS CLI.

click parses a group's options only before the subcommand; the command line is reordered
instead: a global option found after the subcommand moves in front of it. No subcommand
defines an option of these names, so the move never takes a subcommand's own option.
"""

from __future__ import annotations

from collections.abc import Sequence

# The group's options that take a value.
GLOBAL_OPTIONS = frozenset({"--config", "-c", "--log-level"})


def _subcommand_index(args: Sequence[str]) -> int:
    """Where the subcommand's name is: the first token that is neither an option nor the value
    of a global option."""
    i = 0
    while i < len(args):
        if args[i] in GLOBAL_OPTIONS:
            i += 2
        elif args[i].startswith("-"):
            i += 1
        else:
            return i
    return len(args)


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """args with every global option after the subcommand moved before it; `--` ends the scan
    (what follows is a subcommand's, whatever it looks like)."""
    start = _subcommand_index(args)
    moved: list[str] = []
    kept: list[str] = []
    i = start
    while i < len(args):
        token = args[i]
        if token == "--":
            kept.extend(args[i:])
            break
        if token in GLOBAL_OPTIONS and i + 1 < len(args):
            moved.extend(args[i : i + 2])
            i += 2
            continue
        if token.startswith("--") and token.split("=", 1)[0] in GLOBAL_OPTIONS:
            moved.append(token)
        else:
            kept.append(token)
        i += 1
    return [*args[:start], *moved, *kept]
