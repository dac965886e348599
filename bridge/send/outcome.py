"""What a failed send means for the message: retry, wait, change it, or give up."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)


class Action(StrEnum):
    """What the sender does after a failed send."""

    #: wait `delay` seconds (Telegram's retry_after) without counting an attempt
    WAIT = "wait"
    #: back off and try again; counts as an attempt
    RETRY = "retry"
    #: send again at once without the inline keyboard Telegram refused
    DROP_BUTTONS = "drop_buttons"
    #: send again at once as plain text, since Telegram could not parse the HTML
    PLAIN_TEXT = "plain_text"
    #: send again at once to the chat's new id (a group became a supergroup)
    MIGRATE = "migrate"
    #: keep as a dead letter; retrying cannot help
    DEAD = "dead"


@dataclass(frozen=True)
class Outcome:
    action: Action
    error: str
    delay: float = 0.0
    new_chat_id: int | None = None
    #: the chat itself refuses messages (bot removed, chat deleted), not just this one
    chat_gone: bool = False


def classify(exc: Exception, scrub: Callable[[str], str]) -> Outcome:
    """Map python-telegram-bot's exceptions to what to do next.

    Order matters: BadRequest and TimedOut are both NetworkError subclasses.
    """
    name = type(exc).__name__
    error = str(exc) if str(exc).startswith(name) else f"{name}: {exc}"
    # Kept in the database and printed by `woo-bridge dead-letters`: no token in it.
    error = scrub(error)
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():
            # python-telegram-bot 22.2+ warns that int will become timedelta; both are handled.
            warnings.simplefilter("ignore", DeprecationWarning)
            wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
        return Outcome(Action.WAIT, error, delay=seconds)
    if isinstance(exc, ChatMigrated):
        return Outcome(Action.MIGRATE, error, new_chat_id=exc.new_chat_id)
    if isinstance(exc, BadRequest):
        text = exc.message.lower()
        if "button_url_invalid" in text or "wrong http url" in text:
            return Outcome(Action.DROP_BUTTONS, error)
        if "can't parse entities" in text or "unsupported start tag" in text:
            return Outcome(Action.PLAIN_TEXT, error)
        gone = "chat not found" in text or "thread not found" in text
        return Outcome(Action.DEAD, error, chat_gone=gone)
    if isinstance(exc, Forbidden):
        return Outcome(Action.DEAD, error, chat_gone=True)
    if isinstance(exc, InvalidToken):
        # Permanent for this token, but the messages are fine: keep them for a fixed token.
        return Outcome(Action.RETRY, error)
    if isinstance(exc, NetworkError | TelegramError):
        # Includes TimedOut: the message may have arrived anyway, hence at-least-once.
        return Outcome(Action.RETRY, error)
    return Outcome(Action.RETRY, error)
