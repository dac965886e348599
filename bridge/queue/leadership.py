"""Which replica does the work that must not run twice: routing, sending, digests, the
bot's long polling, reconciliation, pruning.

Every replica takes webhooks; one at a time leads. On SQLite there is one process, so it
leads at once and forever (SoleLeader). On PostgreSQL the replicas elect one through the
database (bridge.queue.postgres.leader.PgLeader). The app asks `acquire()` for a term,
runs the leader's work, and stops it the moment `lost` is set.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from bridge.clock import SYSTEM_CLOCK, Clock


@dataclass(frozen=True)
class Replica:
    """A bridge process sharing the database, as its last heartbeat left it."""

    name: str
    #: epoch seconds
    started_at: float
    seen_at: float
    leader: bool


class Leadership(Protocol):
    """Whether this replica leads, and who else shares the database."""

    #: this replica's name (hostname-pid unless BRIDGE_REPLICA_NAME says otherwise)
    replica: str
    #: set when this replica stops leading; cleared when `acquire()` returns a new term
    lost: asyncio.Event
    leading: bool

    def start(self) -> None:
        """Begin the heartbeats (and the election); idempotent. `acquire()` starts too."""
        ...

    async def acquire(self) -> int:
        """Wait until this replica leads; the term's epoch, larger for each new term."""
        ...

    async def leader_name(self) -> str | None:
        """The replica leading now, if any. Raises StoreError if the database fails."""
        ...

    async def replicas(self) -> list[Replica]:
        """The replicas seen lately, the leader flagged. Raises StoreError."""
        ...

    async def close(self) -> None:
        """Stop, releasing the leadership at once if held."""
        ...


class SoleLeader:
    """One process on its own database (SQLite): it leads from the start, forever."""

    def __init__(self, replica: str, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.replica = replica
        self.lost = asyncio.Event()  # never set
        self.leading = True
        self._clock = clock
        self._started_at = clock.time()

    def start(self) -> None:
        pass

    async def acquire(self) -> int:
        return 1

    async def leader_name(self) -> str | None:
        return self.replica

    async def replicas(self) -> list[Replica]:
        return [Replica(self.replica, self._started_at, self._clock.time(), leader=True)]

    async def close(self) -> None:
        pass
