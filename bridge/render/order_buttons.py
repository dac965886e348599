"""The status buttons under an order's message, and the short data each button carries.

A button carries the status the message shows and the one it moves to
("os:processing:completed"): which order it acts on is read from the bridge's own record of
the message it sits under, never from the data, so a hand-made callback cannot reach
another order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from bridge.render.formatting import Formatter
from bridge.render.labels import ORDER_STATUSES

#: the statuses staff move an order to next, per current status (WooCommerce's usual flow)
DEFAULT_NEXT: Mapping[str, tuple[str, ...]] = {
    "pending": ("processing", "cancelled"),
    "processing": ("completed", "on-hold", "cancelled"),
    "on-hold": ("processing", "cancelled"),
    "failed": ("processing", "cancelled"),
}
#: targets that ask for a second, confirming tap
DESTRUCTIVE = frozenset({"cancelled", "refunded", "failed"})
#: what status buttons' data starts with
SET_PREFIX = "os:"
#: Telegram's limit on callback_data, in bytes
MAX_DATA = 64


def status_data(shown: str, target: str) -> str:
    """What a status button sends back: the status shown, and the one to move to."""
    return f"{SET_PREFIX}{shown}:{target}"


def status_rows(
    status: str | None, fmt: Formatter, next_statuses: Mapping[str, tuple[str, ...]]
) -> list[list[dict[str, str]]]:
    """One row of status buttons for an order now in `status` (none for other statuses)."""
    shown = status or ""
    row = [
        {"text": fmt.label(ORDER_STATUSES, target), "callback_data": status_data(shown, target)}
        for target in next_statuses.get(shown, ())
        # a plugin's very long status names cannot fit Telegram's limit: no button for them
        if len(status_data(shown, target).encode()) <= MAX_DATA
    ]
    return [row] if row else []


def with_rows(markup: str | None, rows: list[list[dict[str, str]]]) -> str | None:
    """`markup` (a keyboard's JSON, or None) with `rows` above its own buttons."""
    if not rows:
        return markup
    existing = json.loads(markup)["inline_keyboard"] if markup else []
    return json.dumps({"inline_keyboard": [*rows, *existing]}, ensure_ascii=False)
