"""What staff are told when a change to an order fails: one sentence per cause, never a
secret, never the store's raw answer."""

from __future__ import annotations

from telegram import User

from bridge.render.formatting import Formatter
from bridge.render.labels import ORDER_STATUSES
from bridge.woo.rest import WooApiError


def who(user: User) -> str:
    """A presser's name as the audit and the order note show it."""
    name = user.full_name.strip() or "someone"
    return f"{name} (@{user.username})" if user.username else name


def failure_sentence(exc: WooApiError, number: str, wanted: str, fmt: Formatter) -> str:
    """Why order #`number` was not changed, and what to do about it, in `fmt`'s language."""
    values = {"number": number, "code": exc.status, "status": fmt.label(ORDER_STATUSES, wanted)}
    match exc.status:
        case None:
            text = fmt.gettext(
                "The store did not answer in time, so order #%(number)s was not changed; "
                "try again in a moment."
            )
        case 401 | 403:
            text = fmt.gettext(
                "The store refused the bridge's REST API key (HTTP %(code)s), so order "
                "#%(number)s was not changed; the key needs Read/Write permission."
            )
        case 404:
            text = fmt.gettext(
                "Order #%(number)s no longer exists in the store; nothing was changed."
            )
        case 400:
            text = fmt.gettext(
                "The store does not accept “%(status)s” for order #%(number)s; nothing was changed."
            )
        case _:
            text = fmt.gettext(
                "The store answered HTTP %(code)s, so order #%(number)s was not changed; "
                "the bridge's log has the details."
            )
    return text % values


def note_failure(exc: WooApiError, number: str, fmt: Formatter) -> str:
    """Why a note (or a look-up) on order #`number` did not go through."""
    values = {"number": number, "code": exc.status}
    match exc.status:
        case None:
            text = fmt.gettext("The store did not answer in time; try again in a moment.")
        case 401 | 403:
            text = fmt.gettext(
                "The store refused the bridge's REST API key (HTTP %(code)s); the key needs "
                "Read/Write permission."
            )
        case 404:
            text = fmt.gettext("Order #%(number)s does not exist in the store.")
        case _:
            text = fmt.gettext(
                "The store answered HTTP %(code)s; nothing was done. The bridge's log has the "
                "details."
            )
    return text % values
