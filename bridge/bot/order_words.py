"""What staff are told when a change to an order fails: one sentence per cause, never a
secret, never the store's raw answer."""

from __future__ import annotations

from telegram import User

from bridge.render.labels import order_status_name
from bridge.woo.rest import WooApiError


def who(user: User) -> str:
    """A presser's name as the audit and the order note show it."""
    name = user.full_name.strip() or "someone"
    return f"{name} (@{user.username})" if user.username else name


def failure_sentence(exc: WooApiError, number: str, wanted: str) -> str:
    """Why order #`number` was not changed, and what to do about it."""
    label = order_status_name(wanted)
    match exc.status:
        case None:
            return (
                f"The store did not answer in time, so order #{number} was not changed; "
                "try again in a moment."
            )
        case 401 | 403:
            return (
                f"The store refused the bridge's REST API key (HTTP {exc.status}), so order "
                f"#{number} was not changed; the key needs Read/Write permission."
            )
        case 404:
            return f"Order #{number} no longer exists in the store; nothing was changed."
        case 400:
            return f"The store does not accept “{label}” for order #{number}; nothing was changed."
        case _:
            return (
                f"The store answered HTTP {exc.status}, so order #{number} was not changed; "
                "the bridge's log has the details."
            )


def note_failure(exc: WooApiError, number: str) -> str:
    """Why a note (or a look-up) on order #`number` did not go through."""
    match exc.status:
        case None:
            return "The store did not answer in time; try again in a moment."
        case 401 | 403:
            return (
                f"The store refused the bridge's REST API key (HTTP {exc.status}); "
                "the key needs Read/Write permission."
            )
        case 404:
            return f"Order #{number} does not exist in the store."
        case _:
            return (
                f"The store answered HTTP {exc.status}; nothing was done. "
                "The bridge's log has the details."
            )
