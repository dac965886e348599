"""Mutes: topics a chat, or one forum topic of it, does not want to hear for a while.

Mutes live in SQLite, so they survive restarts, and in memory, so that the router and
the sender can check every message without a trip to the database. A mute stops
messages when they are routed and again just before they are sent: a message queued
before the mute and still waiting is skipped, not sent.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bridge.queue.store import Store
from bridge.routing.topics import matches

# SQLite keys cannot hold NULL usefully; 0 is "no forum topic" (real thread ids start at 2).
_NO_THREAD = 0


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

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        #: wall time as the schedules use it (ScheduleClock.now in the bridge)
        self.now = clock
        self._mutes: dict[tuple[int, int | None, str], Mute] = {}

    async def load(self) -> None:
        rows = await self._store.call(_load, self.now())
        self._mutes = {(m.chat_id, m.thread_id, m.pattern): m for m in rows}

    def muting(
        self, chat_id: int, thread_id: int | None, topic: str, now: float | None = None
    ) -> Mute | None:
        """The mute that silences `topic` in this chat and thread now, if any."""
        now = self.now() if now is None else now
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
        now = self.now() if now is None else now
        return [
            m
            for m in tuple(self._mutes.values())
            if m.chat_id == chat_id and m.thread_id == thread_id and m.active(now)
        ]

    async def mute(self, mute: Mute) -> None:
        """Add a mute, replacing one of the same pattern in the same place."""
        now = self.now()
        await self._store.call(_insert, mute, now)
        self._mutes = {k: m for k, m in self._mutes.items() if m.active(now)}
        self._mutes[(mute.chat_id, mute.thread_id, mute.pattern)] = mute

    async def lift(self, mutes: list[Mute]) -> None:
        await self._store.call(_delete, mutes)
        for mute in mutes:
            self._mutes.pop((mute.chat_id, mute.thread_id, mute.pattern), None)

    def follow(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its mutes now belong to the new id (in memory).

        The database side is `move_chat`, run in the same transaction as the chat alias.
        """
        for key, mute in list(self._mutes.items()):
            if mute.chat_id == old_chat_id:
                del self._mutes[key]
                moved = Mute(new_chat_id, mute.thread_id, mute.pattern, mute.until, mute.muted_by)
                self._mutes[(new_chat_id, mute.thread_id, mute.pattern)] = moved


def move_chat(conn: sqlite3.Connection, old_chat_id: int, new_chat_id: int) -> None:
    """Move a chat's mutes to its new id (runs on the DB thread)."""
    conn.execute(
        "INSERT OR REPLACE INTO mutes (chat_id, thread_id, pattern, until, muted_by, created_at)"
        " SELECT ?, thread_id, pattern, until, muted_by, created_at FROM mutes WHERE chat_id = ?",
        (new_chat_id, old_chat_id),
    )
    conn.execute("DELETE FROM mutes WHERE chat_id = ?", (old_chat_id,))


def _load(conn: sqlite3.Connection, now: float) -> list[Mute]:
    conn.execute("DELETE FROM mutes WHERE until IS NOT NULL AND until <= ?", (now,))
    rows = conn.execute(
        "SELECT chat_id, thread_id, pattern, until, muted_by FROM mutes ORDER BY created_at"
    ).fetchall()
    return [
        Mute(chat, None if thread == _NO_THREAD else thread, pattern, until, by)
        for chat, thread, pattern, until, by in rows
    ]


def _insert(conn: sqlite3.Connection, mute: Mute, now: float) -> None:
    conn.execute("DELETE FROM mutes WHERE until IS NOT NULL AND until <= ?", (now,))
    conn.execute(
        "INSERT OR REPLACE INTO mutes (chat_id, thread_id, pattern, until, muted_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (mute.chat_id, mute.thread_id or _NO_THREAD, mute.pattern, mute.until, mute.muted_by, now),
    )


def _delete(conn: sqlite3.Connection, mutes: list[Mute]) -> None:
    conn.executemany(
        "DELETE FROM mutes WHERE chat_id = ? AND thread_id = ? AND pattern = ?",
        [(m.chat_id, m.thread_id or _NO_THREAD, m.pattern) for m in mutes],
    )
