"""Mutes: topics a chat, or one forum topic of it, does not want to hear for a while.

Mutes live in SQLite, so they survive restarts, and in memory, so that the router and
the sender can check every message without a trip to the database. A mute stops
messages when they are routed and again just before they are sent: a message queued
before the mute and still waiting is skipped, not sent.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import UTC, datetime

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.queue.models import MuteRecord
from bridge.queue.storage import Storage
from bridge.routing.topics import matches


@dataclass(frozen=True)
class Mute:
    """One muted topic or pattern in one chat (and forum topic)."""

    chat_id: int
    thread_id: int | None
    pattern: str
    #: when it ends (epoch seconds); None lasts until /unmute
    until: float | None
    muted_by: int

    def active(self, now: float) -> bool:
        return self.until is None or self.until > now

    def covers(self, topic: str) -> bool:
        return matches(topic, self.pattern)

    def describe(self) -> str:
        """`order.* until 2024-05-01 14:30 UTC`, for staff and for the queue's records."""
        if self.until is None:
            return f"{self.pattern} until unmuted"
        ends = datetime.fromtimestamp(self.until, UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"{self.pattern} until {ends}"


class Mutes:
    """Every mute of the bridge; changes are written through to the database."""

    def __init__(self, store: Storage, clock: Clock = SYSTEM_CLOCK) -> None:
        self._store = store
        #: what "now" is for every mute; the staff commands ask it too
        self.clock = clock
        self._mutes: dict[tuple[int, int | None, str], Mute] = {}

    async def load(self) -> None:
        rows = [Mute(*astuple(record)) for record in await self._store.mutes()]
        self._mutes = {(m.chat_id, m.thread_id, m.pattern): m for m in rows}

    def muting(
        self, chat_id: int, thread_id: int | None, topic: str, now: float | None = None
    ) -> Mute | None:
        """The mute that silences `topic` in this chat and thread now, if any."""
        now = self.clock.time() if now is None else now
        for mute in tuple(self._mutes.values()):  # the router reads from a thread
            if (
                mute.chat_id == chat_id
                and mute.thread_id == thread_id
                and mute.active(now)
                and mute.covers(topic)
            ):
                return mute
        return None

    def of(self, chat_id: int, thread_id: int | None, now: float | None = None) -> list[Mute]:
        """The mutes in force in this chat and thread."""
        now = self.clock.time() if now is None else now
        return [
            m
            for m in tuple(self._mutes.values())
            if m.chat_id == chat_id and m.thread_id == thread_id and m.active(now)
        ]

    async def mute(self, mute: Mute) -> None:
        """Add a mute, replacing one of the same pattern in the same place."""
        now = self.clock.time()
        await self._store.save_mute(_record(mute))
        self._mutes = {k: m for k, m in self._mutes.items() if m.active(now)}
        self._mutes[(mute.chat_id, mute.thread_id, mute.pattern)] = mute

    async def lift(self, mutes: list[Mute]) -> None:
        await self._store.delete_mutes([_record(m) for m in mutes])
        for mute in mutes:
            self._mutes.pop((mute.chat_id, mute.thread_id, mute.pattern), None)

    def follow(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its mutes now belong to the new id (in memory).

        The database side is part of the store's `record_chat_move`.
        """
        for key, mute in list(self._mutes.items()):
            if mute.chat_id == old_chat_id:
                del self._mutes[key]
                moved = Mute(new_chat_id, mute.thread_id, mute.pattern, mute.until, mute.muted_by)
                self._mutes[(new_chat_id, mute.thread_id, mute.pattern)] = moved


def _record(mute: Mute) -> MuteRecord:
    return MuteRecord(mute.chat_id, mute.thread_id, mute.pattern, mute.until, mute.muted_by)
