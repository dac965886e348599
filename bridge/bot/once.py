"""Each Telegram update is handled once, whichever replica (or run) is given it.

getUpdates confirms an update only when the next call asks for a higher offset, so a
bridge that stopped before that call, or a new leader after the old one died, receives
again the updates already handled; in webhook mode Telegram may post an update again to
any replica. A staff action (an order's status, a mute) must not be applied twice, so
every update is first taken in the database (`Storage.take_update`), before any handler
runs, in the earliest handler group; one taken already stops there.

Taken before it is handled: an update whose handling is cut short by a crash is not
handled again (staff see no answer and tap again), rather than applied twice.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bridge.queue.storage import Storage, StoreError

log = logging.getLogger(__name__)

#: before every other handler (they use group 0 and later)
GROUP = -100


class UpdatesOnce:
    """The first handler every update meets: lets through only updates not taken yet."""

    def __init__(self, store: Storage) -> None:
        self._store = store

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        application.add_handler(TypeHandler(Update, self.check), group=GROUP)

    async def check(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stop an update handled already; let a new one through to the others."""
        try:
            first = await self._store.take_update(update.update_id)
        except StoreError as exc:
            # The database is failing: the handlers will say so to staff; dropping the
            # update silently would lose a command nobody applied.
            log.warning(
                "could not check whether Telegram update %d was handled already: %s",
                update.update_id,
                exc,
            )
            return
        if not first:
            log.info("Telegram update %d was handled already; skipped", update.update_id)
            raise ApplicationHandlerStop
