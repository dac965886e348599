"""The command menu in each language the bridge speaks, for setMyCommands' language_code.

Telegram shows a user the menu registered for their app's language, and the one without a
language to everyone else; the descriptions are translated like the messages' phrases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from telegram import BotCommand

from bridge.render.labels import N_

#: every description of the menu (bridge.bot.commands.COMMANDS), marked for translation
DESCRIPTIONS = (
    N_("What this bot does, and this chat's id"),
    N_("The topics this chat receives; tap one to mute it"),
    N_("Mute a topic here: /mute order.updated 2h"),
    N_("Hear a topic again: /unmute order.updated, or /unmute all"),
    N_("Queue depth, last message sent, dead letters"),
    N_("Dead letters: how many, and the latest errors (admins)"),
    N_("An order's card, with its status buttons: /order 1234"),
    N_("The latest orders in a status: /orders on-hold"),
    N_("In reply to an order: /note text, or /note customer text"),
    N_("Sales report and chart: /report 7d (today, week, month, 30d, a date)"),
)


def menus(
    commands: list[BotCommand],
    languages: Iterable[str],
    gettext_of: Callable[[str], Callable[[str], str]],
) -> dict[str, list[BotCommand]]:
    """The menu per Telegram language code ("pt_BR" becomes "pt"), English left out."""
    result: dict[str, list[BotCommand]] = {}
    for language in languages:
        code = language.split("_")[0].lower()
        if code == "en" or code in result:
            continue
        gettext = gettext_of(language)
        result[code] = [BotCommand(c.command, gettext(c.description)) for c in commands]
    return result
