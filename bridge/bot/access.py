"""Who may use the staff commands, and where: chats that a route names, admins for changes.

A command only ever reads and changes the chat (and forum topic) it was sent in, so
nothing of one chat shows in another.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Message, Update

from bridge.routing.chats import Chats

log = logging.getLogger(__name__)

REFUSAL = (
    "Sorry, only the shop's admins can change what this chat hears. "
    "An admin can add your Telegram user id ({user_id}) to TELEGRAM_ADMIN_IDS."
)


@dataclass(frozen=True)
class Place:
    """A chat, and the forum topic in it (None for a plain chat or a forum's General)."""

    chat_id: int
    thread_id: int | None

    @classmethod
    def of(cls, message: Message) -> Place:
        # In a plain group, message_thread_id is a reply chain, not a forum topic.
        thread = message.message_thread_id if message.is_topic_message else None
        return cls(message.chat_id, thread)


class Access:
    """Answers "may this update be handled here?" for the command handlers."""

    def __init__(self, admins: frozenset[int], chats: Chats) -> None:
        """`admins` are the Telegram user ids of TELEGRAM_ADMIN_IDS."""
        self._admins = admins
        self._chats = chats
        self._ignored: set[int] = set()

    def place(self, update: Update) -> Place | None:
        """Where the update came from, if a route names that chat; logs others once each."""
        message = update.effective_message
        if message is None:
            return None
        place = Place.of(message)
        if self._chats.routes.names_chat(place.chat_id):
            return place
        if place.chat_id not in self._ignored:
            self._ignored.add(place.chat_id)
            log.info(
                "ignoring staff commands from chat %s: no route names it (/start shows its id)",
                place.chat_id,
                extra={"chat_id": place.chat_id},
            )
        return None

    def is_admin(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self._admins

    def is_admin_private_chat(self, update: Update) -> bool:
        """A private chat with an admin: the shop owner asking the bot about the bridge."""
        chat = update.effective_chat
        return chat is not None and chat.type == "private" and self.is_admin(update)
