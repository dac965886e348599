"""/report [period]: the sales report and its chart, for the shop's admins and staff."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler, ContextTypes

from bridge.bot.access import Access
from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.queue.storage import Storage, StoreError
from bridge.render.renderer import Renderer
from bridge.reports.message import report_message
from bridge.reports.periods import PeriodError, parse_period

log = logging.getLogger(__name__)


class ReportCommands:
    """Answers /report in a configured chat, in that chat's language."""

    def __init__(
        self,
        store: Storage,
        access: Access,
        renderer: Renderer,
        *,
        readers: frozenset[int],
        language_of: Callable[[int], str | None] = lambda chat_id: None,
        stores: Sequence[str] = (),
        zone: dt.tzinfo = dt.UTC,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self._access = access
        self._renderer = renderer
        #: admins and staff: who may read the shop's figures
        self._readers = readers
        self._language_of = language_of
        self._stores = tuple(stores)
        self._zone = zone
        self._clock = clock

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        application.add_handler(CommandHandler("report", self.report))

    async def report(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        place = self._access.place(update)
        if message is None or user is None or place is None:
            return
        fmt = self._renderer.formatter(self._renderer.language(self._language_of(message.chat_id)))
        if user.id not in self._readers:
            refusal = fmt.gettext("Only the shop's admins and staff can ask for sales reports.")
            await message.reply_text(refusal, do_quote=False)
            return
        now = dt.datetime.fromtimestamp(self._clock.time(), self._zone)
        try:
            period = parse_period(" ".join(context.args or []) or None, now)
        except PeriodError as exc:
            await message.reply_text(f"/report: {exc}", do_quote=False)
            return
        try:
            built = await report_message(self._store, period, fmt, stores=self._stores)
        except StoreError as exc:
            log.error("could not read the orders ledger for /report: %s", exc)
            await message.reply_text(
                "The report could not be read from the database; try again in a moment.",
                do_quote=False,
            )
            return
        thread = place.thread_id
        await message.reply_text(
            built.text, parse_mode=ParseMode.HTML, do_quote=False, message_thread_id=thread
        )
        if built.chart is not None:
            await message.reply_photo(
                built.chart, caption=built.caption, do_quote=False, message_thread_id=thread
            )
