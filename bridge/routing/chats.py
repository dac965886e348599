"""Who hears what right now: the routes, the mutes staff set, and chats that moved.

When a group becomes a supergroup, Telegram gives it a new id and refuses messages to
the old one. The bridge records the move (a chat alias), so that routes written for
the old id, and the chat's mutes, follow the new id now and after every restart,
until the shop owner updates the configuration.
"""

from __future__ import annotations

import logging

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.queue.models import QueuedMessage
from bridge.queue.storage import Storage
from bridge.routing.mutes import Mutes
from bridge.routing.targets import Routes

log = logging.getLogger(__name__)

#: the bridge's own notices (e.g. that a chat refuses messages): never muted
OWN_TOPICS = "bridge."


class Chats:
    """The routes and mutes of the bridge, kept pointing at chats' current ids."""

    def __init__(self, store: Storage, routes: Routes, mutes: Mutes) -> None:
        self._store = store
        self.routes = routes
        self.mutes = mutes

    @classmethod
    async def open(cls, store: Storage, routes: Routes, clock: Clock = SYSTEM_CLOCK) -> Chats:
        """Load mutes and chat moves, and point the routes at the chats' current ids.

        `clock` gives the wall time mutes end by (a ScheduleClock in the bridge).
        """
        mutes = Mutes(store, clock)
        await mutes.load()
        chats = cls(store, routes, mutes)
        chats._follow(await store.chat_moves())
        return chats

    async def reload(self) -> None:
        """Read the mutes and the chat moves again: with several replicas another one may
        have recorded them (a leader that saw a group become a supergroup, then died)."""
        await self.mutes.load()
        self._follow(await self._store.chat_moves())

    def _follow(self, moves: dict[int, int]) -> None:
        """Point the routes at the chats' current ids; each move is told once."""
        for old in moves:
            new = _current_id(old, moves)
            if self.routes.follow(old, new):
                self._hint(old, new)

    def skip_reason(self, message: QueuedMessage) -> str | None:
        """Why a queued message must not be sent now (its chat muted the topic), or None."""
        if message.topic.startswith(OWN_TOPICS):
            return None
        mute = self.mutes.muting(message.chat_id, message.thread_id, message.topic)
        return None if mute is None else f"muted: {mute.describe()}"

    async def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        """Follow a group that became a supergroup: routes and mutes move to the new id."""
        if old_chat_id == new_chat_id:
            return
        await self._store.record_chat_move(old_chat_id, new_chat_id)
        self.mutes.follow(old_chat_id, new_chat_id)
        moved = self.routes.follow(old_chat_id, new_chat_id)
        self._hint(old_chat_id, new_chat_id, routed=bool(moved))

    def _hint(self, old: int, new: int, routed: bool = True) -> None:
        if not routed:
            where = f"replace {old} with {new} wherever a setting names it"
        elif self.routes.source == "TELEGRAM_CHAT_ID":
            where = f"set TELEGRAM_CHAT_ID={new}"
        else:
            where = f"replace chat_id = {old} with chat_id = {new} in {self.routes.source}"
        log.warning(
            "chat %s became supergroup %s; the bridge sends there now. "
            "Update the configuration: %s",
            old,
            new,
            where,
            extra={"chat_id": old},
        )


def _current_id(chat_id: int, moves: dict[int, int]) -> int:
    """Where a chat lives now, following moves one after another, never in a loop."""
    seen = {chat_id}
    while chat_id in moves and moves[chat_id] not in seen:
        chat_id = moves[chat_id]
        seen.add(chat_id)
    return chat_id
