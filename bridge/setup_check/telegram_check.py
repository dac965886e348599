"""The Telegram half of the setup check: the token, and each configured chat and topic.

Lines are built from Telegram's own error descriptions and the configuration, never from
an exception's text, which may quote the request URL and with it the token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import Bot, ChatMemberAdministrator, ChatMemberRestricted, User
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, TelegramError

from bridge.bot.reach import Reach
from bridge.setup_check.findings import Finding, error, ok, warning

TEST_TEXT = "✅ woo-telegram-bridge setup check: this chat receives {what}."
_CANNOT_POST = ("left", "kicked")


@dataclass(frozen=True)
class Place:
    """A chat (and forum topic) the configuration sends to, and what names it there."""

    chat_id: int
    thread_id: int | None
    #: e.g. 'route "orders"' or "TELEGRAM_ALERT_CHAT_ID"
    named_by: str


class Unreachable(Exception):
    """Telegram could not be reached at all: the other checks would all say the same."""


async def check_telegram(
    bot: Bot, places: Sequence[Place], reach: Reach, *, send_test: bool = False
) -> list[Finding]:
    """getMe, then each place: getChat, the bot's rights, and with `send_test` one message."""
    try:
        await bot.initialize()  # a no-op for the running bridge's bot
        me = await bot.get_me()
    except InvalidToken as exc:
        return [error(reach.rejection(exc)[1])]
    except TelegramError as exc:
        return [error(reach.unreachable("getMe", exc))]
    findings = [ok(f"TELEGRAM_BOT_TOKEN works: the bot is @{me.username}")]
    if not places:
        findings.append(error("no chat is configured: set TELEGRAM_CHAT_ID or add [[routes]]"))
    for place in places:
        try:
            findings += await _check_place(bot, me, place, send_test)
        except Unreachable as exc:
            findings.append(error(str(exc)))
            break
    return findings


async def _check_place(bot: Bot, me: User, place: Place, send_test: bool) -> list[Finding]:
    where = f"chat {place.chat_id} ({place.named_by})"
    try:
        chat = await bot.get_chat(place.chat_id)
        member = None
        if chat.type != "private":
            member = await bot.get_chat_member(place.chat_id, me.id)
    except TelegramError as exc:
        return [_refusal(where, place, exc)]
    title = f' "{chat.title}"' if chat.title else ""
    where = f"chat {place.chat_id}{title} ({place.named_by})"
    rights = _rights_problem(where, chat.type, member)
    if rights is not None:
        return [error(rights)]
    findings = []
    if place.thread_id is not None and not chat.is_forum:
        return [
            error(
                f"{where} is not a forum, so it has no topic {place.thread_id}: remove "
                "thread_id, or turn Topics on in the group's settings"
            )
        ]
    findings.append(ok(f"{where}: the bot can post ({chat.type})"))
    if send_test:
        findings.append(await _send_test(bot, where, place))
    elif place.thread_id is not None:
        findings.append(
            warning(
                f"{where}: whether topic {place.thread_id} exists only a message can tell; "
                "run woo-bridge check --online --send-test"
            )
        )
    return findings


def _refusal(where: str, place: Place, exc: TelegramError) -> Finding:
    """One line for a chat Telegram refuses to describe."""
    if isinstance(exc, ChatMigrated):
        return error(
            f"{where} became the supergroup {exc.new_chat_id}: set chat_id = "
            f"{exc.new_chat_id} there (the bridge follows the move, but only once a message "
            "bounces)"
        )
    if isinstance(exc, Forbidden):
        return error(
            f"{where}: the bot was removed from the chat or blocked ({exc.message}); add it to "
            "the chat again"
        )
    if isinstance(exc, BadRequest) and "not found" in exc.message.lower():
        return error(
            f"{where}: Telegram knows no such chat for this bot; check the chat id (send /start "
            "in the chat to see it) and that the bot was added to the chat"
        )
    if isinstance(exc, BadRequest):
        return error(f"{where}: Telegram refused getChat ({exc.message}); check the chat id")
    raise Unreachable(f"cannot ask Telegram about {where} ({type(exc).__name__}); try again")


def _rights_problem(where: str, chat_type: str, member: object) -> str | None:
    """What stops the bot posting, from its ChatMember; None if it may post."""
    if member is None:
        return None
    status = getattr(member, "status", "")
    if status in _CANNOT_POST:
        return f"{where}: the bot is not a member ({status}); add it to the chat again"
    if chat_type == "channel":
        if not (isinstance(member, ChatMemberAdministrator) and member.can_post_messages):
            return f'{where} is a channel: make the bot an administrator with "Post messages"'
        return None
    if isinstance(member, ChatMemberRestricted) and not member.can_send_messages:
        return (
            f"{where}: the bot is restricted and may not send messages; lift the restriction "
            "or make it an administrator"
        )
    return None


async def _send_test(bot: Bot, where: str, place: Place) -> Finding:
    topic = f" topic {place.thread_id}" if place.thread_id is not None else ""
    try:
        await bot.send_message(
            place.chat_id,
            TEST_TEXT.format(what=place.named_by),
            message_thread_id=place.thread_id,
            disable_notification=True,
        )
    except BadRequest as exc:
        if "thread not found" in exc.message.lower():
            return error(
                f"{where}: topic {place.thread_id} does not exist; send /start in the topic "
                "to see its id, and set thread_id to it"
            )
        return error(f"{where}{topic}: the test message was refused ({exc.message})")
    except TelegramError as exc:
        return error(f"{where}{topic}: the test message failed ({type(exc).__name__})")
    return ok(f"{where}{topic}: test message sent")
