"""What the planner may say: FAILED and ACCOUNT_GONE outcomes, nothing else; and what only
the planner may say: that an account is gone.

Observations and COMPLETE outcomes come from describers, on `resources`; a COMPLETE outcome
deletes what its sweep did not see (consumers/sink/deletions.py). The planner writes only
`work` and `plan-outcomes` (fleetstream/kafka/acl.py), so a compromised planner cannot forge a
COMPLETE outcome on `resources`; the sink refuses one on `plan-outcomes`, which would
otherwise be the same forgery one topic over. Only the planner reads AWS Organizations, so an
ACCOUNT_GONE outcome on `resources` (a describer's user, which may write there) is refused
too: it would mark, and past the grace delete, every item of an account and type. Kafka
records carry no authenticated producer, so the topic is the provenance: the broker's ACLs (or
MSK IAM) decide who writes which.
"""

from __future__ import annotations

from dataclasses import replace

from fleetstream.base.errors import PoisonMessageError
from fleetstream.base.metrics import SINK_PLANNER_REFUSED, SINK_RESOURCES_REFUSED
from fleetstream.base.models import Observation, ResourceEvent, ShardStatus

# What planning can find without describing: regions unknown, or the account gone.
PLANNER_STATUSES = frozenset({ShardStatus.FAILED, ShardStatus.ACCOUNT_GONE})


def check_planner_event(event: ResourceEvent) -> ResourceEvent:
    """The outcome as the planner may report it; PoisonMessageError (to the DLQ) otherwise."""
    if isinstance(event, Observation):
        SINK_PLANNER_REFUSED.labels("observation").inc()
        raise PoisonMessageError(
            f"an observation of {event.arn} on plan-outcomes: only describers observe "
            "(resources topic)"
        )
    if event.status not in PLANNER_STATUSES:
        SINK_PLANNER_REFUSED.labels("outcome").inc()
        raise PoisonMessageError(
            f"a {event.status.value} outcome of {event.shard} on plan-outcomes: the planner "
            f"reports only {', '.join(sorted(s.value for s in PLANNER_STATUSES))}"
        )
    # Nothing was described, so there is no describing start to delete against.
    return replace(event, described_from=None)


def check_describer_event(event: ResourceEvent) -> ResourceEvent:
    """The event as a describer may report it on `resources`; PoisonMessageError (to the
    DLQ) for an ACCOUNT_GONE outcome, which only the planner finds."""
    if isinstance(event, Observation) or event.status is not ShardStatus.ACCOUNT_GONE:
        return event
    SINK_RESOURCES_REFUSED.labels("account_gone").inc()
    raise PoisonMessageError(
        f"an ACCOUNT_GONE outcome of {event.shard} on resources: only the planner says an "
        "account is gone (plan-outcomes)"
    )
