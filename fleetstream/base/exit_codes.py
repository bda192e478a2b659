"""The process exit codes of every `fleetstream` command, defined once (README lists them).

Scripts branch on these: a usage or config error needs a person, a transient outage a retry.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a `fleetstream` command's exit status means."""

    OK = 0
    FAILED = 1  # the work ran and part of it failed: a shard (sweep), an action (act --wait)
    USAGE = 2  # usage or config error; click's own usage errors exit 2 as well
    BAD_QUERY = 3  # query/resources: the SQL or --where does not parse or run
    UNKNOWN_TYPE = 4  # resources: --type matches no catalog type
    NO_SNAPSHOT = 5  # query/resources: nothing exported to read
    NOT_FOUND = 6  # show/history: no such ARN
    REFUSED = 7  # act: the request was refused (e.g. more targets than --max-targets)
    UNAVAILABLE = 75  # transient outage (broker/endpoint unreachable): retry later; EX_TEMPFAIL
