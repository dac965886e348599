"""What each Telegram error means for the message, with python-telegram-bot's own exceptions."""

from __future__ import annotations

import datetime as dt

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bridge.redact import Secrets
from bridge.send.outcome import Action, classify


@pytest.mark.parametrize(
    ("exc", "action"),
    [
        (BadRequest("Chat not found"), Action.DEAD),
        (BadRequest("Message thread not found"), Action.DEAD),
        (BadRequest("Button_url_invalid"), Action.DROP_BUTTONS),
        (BadRequest("Can't parse entities: unsupported start tag"), Action.PLAIN_TEXT),
        (Forbidden("Forbidden: bot was kicked from the group chat"), Action.DEAD),
        (TimedOut(), Action.RETRY),
        (NetworkError("Bad Gateway"), Action.RETRY),
        (InvalidToken(), Action.RETRY),
        (RuntimeError("bug"), Action.RETRY),
    ],
)
def test_classification(exc: Exception, action: Action) -> None:
    assert classify(exc, Secrets().scrub).action is action


def test_retry_after_waits_the_given_time() -> None:
    outcome = classify(RetryAfter(dt.timedelta(seconds=7)), Secrets().scrub)
    assert (outcome.action, outcome.delay) == (Action.WAIT, 7.0)


def test_migration_carries_the_new_id() -> None:
    outcome = classify(ChatMigrated(-100999), Secrets().scrub)
    assert (outcome.action, outcome.new_chat_id) == (Action.MIGRATE, -100999)
