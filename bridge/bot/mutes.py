"""Staff commands to see and mute topics: /topics, /mute, /unmute and the toggle buttons.

Everything here reads and changes the chat (and forum topic) the command came from,
and only admins (TELEGRAM_ADMIN_IDS) change anything.
"""

from __future__ import annotations

import hashlib
import html
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bridge.bot.access import REFUSAL, Access, Place
from bridge.routing.chats import Chats
from bridge.routing.mutes import Mute
from bridge.routing.topics import matches, pattern_problem

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d{1,6})([smhd])")
MAX_DURATION = 366 * 86400
#: Telegram's limit on a button's callback_data
_CALLBACK_BYTES = 64
_TOGGLE, _TOGGLE_HASHED = "m:", "m#"
_BUTTONS_PER_ROW = 2


class UsageError(ValueError):
    """A command's arguments are wrong; the message tells staff how to write it."""


def parse_duration(text: str) -> float:
    """Seconds in `30m`, `2h`, `1d` (or `45s`)."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None:
        raise UsageError(f"“{text}” is not a duration; write it like 30m, 2h or 1d.")
    seconds = int(found[1]) * _UNITS[found[2]]
    if not 0 < seconds <= MAX_DURATION:
        raise UsageError(
            "A mute lasts from 1s to 366d; leave the duration out to mute until /unmute."
        )
    return float(seconds)


def short_duration(seconds: float) -> str:
    """The two largest units, e.g. `3h 12m`."""
    remaining = round(max(0.0, seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, remaining = divmod(remaining, size)
        if amount or (unit == "s" and not parts):
            parts.append(f"{amount}{unit}")
    return " ".join(parts[:2])


def overlaps(pattern: str, topic: str) -> bool:
    """Whether a pattern and a listed topic (itself maybe a pattern, `action.*`) meet."""
    return matches(topic, pattern) or matches(pattern, topic)


def callback_data(topic: str) -> str:
    data = _TOGGLE + topic
    if len(data.encode()) <= _CALLBACK_BYTES:
        return data
    return _TOGGLE_HASHED + _digest(topic)


def topic_of(data: str, topics: list[str]) -> str | None:
    """The topic a toggle button stands for, if this place still receives it."""
    if data.startswith(_TOGGLE):
        topic = data.removeprefix(_TOGGLE)
        return topic if topic in topics else None
    digest = data.removeprefix(_TOGGLE_HASHED)
    return next((t for t in topics if _digest(t) == digest), None)


def _digest(topic: str) -> str:
    return hashlib.sha256(topic.encode()).hexdigest()[:24]


class MuteCommands:
    """Handlers for /topics, /mute, /unmute and the toggle buttons."""

    def __init__(self, access: Access, chats: Chats) -> None:
        self._access = access
        self._chats = chats

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        application.add_handler(CommandHandler("topics", self.topics))
        application.add_handler(CommandHandler("mute", self.mute))
        application.add_handler(CommandHandler("unmute", self.unmute))
        application.add_handler(CallbackQueryHandler(self.toggle, pattern=r"^m[:#]"))

    async def topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """List the topics this chat receives, with a button to mute or unmute each."""
        place, message = self._access.place(update), update.effective_message
        if place is None or message is None:
            return
        text, keyboard = self.view(place)
        await _reply(message, text, keyboard)

    async def mute(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Mute a topic or pattern here, for a while or until /unmute."""
        place, message = self._access.place(update), update.effective_message
        if place is None or message is None or message.from_user is None:
            return
        if not self._access.is_admin(update):
            await _reply(message, REFUSAL.format(user_id=message.from_user.id))
            return
        try:
            mute = self._mute_from(place, context.args or [], message.from_user.id)
        except UsageError as exc:
            await _reply(message, html.escape(str(exc)))
            return
        await self._chats.mutes.mute(mute)
        topics = self._chats.routes.topics_for(place.chat_id, place.thread_id)
        covered = ", ".join(t for t in topics if overlaps(mute.pattern, t))
        how_long = (
            "until /unmute"
            if mute.until is None
            else f"for {short_duration(mute.until - self._chats.mutes.now())}"
        )
        await _reply(
            message,
            f"🔕 Muted <code>{html.escape(mute.pattern)}</code> here {how_long}: "
            f"{html.escape(covered)}.\nMessages of these topics still waiting are dropped too. "
            f"Send /unmute {html.escape(mute.pattern)} to hear them again.",
        )

    def _mute_from(self, place: Place, args: list[str], user_id: int) -> Mute:
        topics = self._chats.routes.topics_for(place.chat_id, place.thread_id)
        if not args or len(args) > 2:
            raise UsageError(
                "Write /mute <topic or pattern> [duration], e.g. /mute product.* 2h. "
                f"This chat receives: {', '.join(topics) or 'nothing'}."
            )
        pattern = args[0].lower()
        problem = pattern_problem(pattern)
        if problem is not None:
            raise UsageError(problem)
        if not any(overlaps(pattern, t) for t in topics):
            raise UsageError(
                f"No topic this chat receives matches {pattern}; "
                f"it receives: {', '.join(topics) or 'nothing'}."
            )
        until = self._chats.mutes.now() + parse_duration(args[1]) if len(args) == 2 else None
        return Mute(place.chat_id, place.thread_id, pattern, until, user_id)

    async def unmute(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Lift the mutes a topic or pattern names here, or all of them."""
        place, message = self._access.place(update), update.effective_message
        if place is None or message is None or message.from_user is None:
            return
        if not self._access.is_admin(update):
            await _reply(message, REFUSAL.format(user_id=message.from_user.id))
            return
        mutes = self._chats.mutes.of(place.chat_id, place.thread_id)
        args = context.args or []
        if len(args) != 1:
            muted = ", ".join(m.pattern for m in mutes) or "nothing"
            await _reply(
                message,
                html.escape(
                    f"Write /unmute <topic or pattern>, or /unmute all. Muted here: {muted}."
                ),
            )
            return
        lifted = self.covering(place, args[0].lower(), mutes)
        if not lifted:
            await _reply(message, f"Nothing muted here matches {html.escape(args[0])}.")
            return
        await self._chats.mutes.lift(lifted)
        names = ", ".join(m.pattern for m in lifted)
        await _reply(message, f"🔔 Unmuted {html.escape(names)}.")

    def covering(self, place: Place, pattern: str, mutes: list[Mute]) -> list[Mute]:
        """The mutes `pattern` names: its own, and those silencing a topic it matches."""
        if pattern == "all":
            return mutes
        topics = self._chats.routes.topics_for(place.chat_id, place.thread_id)
        reached = [t for t in topics if overlaps(pattern, t)]
        return [
            m for m in mutes if m.pattern == pattern or any(overlaps(m.pattern, t) for t in reached)
        ]

    async def toggle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A /topics button: mute the topic until unmuted, or lift the mutes silencing it."""
        query = update.callback_query
        if query is None:
            return
        place = self._access.place(update)
        if place is None or query.data is None:
            await query.answer()
            return
        if not self._access.is_admin(update):
            await query.answer(REFUSAL.format(user_id=query.from_user.id), show_alert=True)
            return
        topics = self._chats.routes.topics_for(place.chat_id, place.thread_id)
        topic = topic_of(query.data, topics)
        if topic is None:
            await query.answer("This chat no longer receives that topic.")
        else:
            mutes = self._chats.mutes
            silencing = [m for m in mutes.of(place.chat_id, place.thread_id) if m.covers(topic)]
            if silencing:
                await mutes.lift(silencing)
                wider = [m.pattern for m in silencing if m.pattern != topic]
                covered = f" (lifted {', '.join(wider)}, which covered it)" if wider else ""
                await query.answer(f"🔔 {topic} unmuted{covered}")
            else:
                await mutes.mute(
                    Mute(place.chat_id, place.thread_id, topic, None, query.from_user.id)
                )
                await query.answer(f"🔕 {topic} muted")
        text, keyboard = self.view(place)
        try:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
        except BadRequest as exc:
            # Two quick taps can leave nothing to change; Telegram says so and that is fine.
            if "not modified" not in exc.message.lower():
                raise

    def view(self, place: Place) -> tuple[str, InlineKeyboardMarkup | None]:
        """The /topics message for a place: each topic, whether it is muted, and buttons."""
        topics = self._chats.routes.topics_for(place.chat_id, place.thread_id)
        if not topics:
            return (
                "Nothing is sent to this topic. Send /topics in the topic that receives "
                "the shop's messages.",
                None,
            )
        now = self._chats.mutes.now()
        lines = ["<b>Topics sent here</b>"]
        buttons = []
        for topic in topics:
            mute = self._chats.mutes.muting(place.chat_id, place.thread_id, topic, now)
            if mute is None:
                lines.append(f"🔔 {html.escape(topic)}")
            else:
                until = (
                    "until /unmute"
                    if mute.until is None
                    else f"for {short_duration(mute.until - now)} more"
                )
                lines.append(f"🔕 {html.escape(topic)}: muted {until}")
            label = f"{'🔔' if mute is None else '🔕'} {topic}"
            buttons.append(InlineKeyboardButton(label, callback_data=callback_data(topic)))
        lines.append("\nTap a topic to mute or unmute it (admins only).")
        rows = [buttons[i : i + _BUTTONS_PER_ROW] for i in range(0, len(buttons), _BUTTONS_PER_ROW)]
        return "\n".join(lines), InlineKeyboardMarkup(rows)


async def _reply(message: Message, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    # reply_text answers in the same forum topic the command came from.
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard, do_quote=False)
