"""The sink's pure handler: typed resource events in, DynamoDB writes and change records out."""

from __future__ import annotations

from collections.abc import Sequence

from consumers.sink.accounts import GoneAccounts
from consumers.sink.changes import SinkOutput, deleted_output
from consumers.sink.deletions import Tombstoner
from consumers.sink.store import InventoryStore
from consumers.sink.unreachable import Unreachable
from fleetstream.base.metrics import SHARDS
from fleetstream.base.models import Observation, ResourceEvent, ShardOutcome
from fleetstream.inventory.sweeps import SweepStore


class Sink:
    """Writes observations, then applies the shard outcomes that follow them on the partition."""

    def __init__(
        self,
        inventory: InventoryStore,
        sweeps: SweepStore,
        tombstoner: Tombstoner,
        gone_accounts: GoneAccounts,
        unreachable: Unreachable | None = None,
    ) -> None:
        self._inventory = inventory
        self._sweeps = sweeps
        self._tombstoner = tombstoner
        self._gone_accounts = gone_accounts
        self._unreachable = unreachable

    def write(self, events: Sequence[ResourceEvent]) -> list[SinkOutput]:
        """Apply one batch; an outcome is recorded only after the observations before it.

        Returns the change and state records, in the order DynamoDB went through the states
        (observations first, then each outcome's deletions), for the loop to produce before
        it stores the batch's offsets.
        """
        outputs: list[SinkOutput] = []
        observations = [e for e in events if isinstance(e, Observation)]
        if observations:
            outputs.extend(self._inventory.apply(observations).outputs)
        for event in events:
            if isinstance(event, ShardOutcome):
                # Deletions first: a shard counts as finished only once they are done.
                deleted = self._tombstoner.sweep_shard(event)
                outputs.extend(deleted_output(d) for d in deleted)
                if self._unreachable is not None:  # FAILED and ACCOUNT_GONE: never silent
                    outputs.extend(deleted_output(d) for d in self._unreachable.apply(event))
                self._gone_accounts.mark(event)
                self._sweeps.record_outcome(event)
                SHARDS.labels(event.resource_type, event.status.value).inc()
        return outputs
