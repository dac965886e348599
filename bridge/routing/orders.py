"""What the bridge remembers of each order: its last status, to tell a change from a save.

WooCommerce sends order.updated on every save of an order, often several times per
change, and the payload carries no previous status. Keeping the last status seen per
order turns that stream into "pending → processing" once, and silence otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.payloads import Payload, PayloadKind
from bridge.queue.models import OrderState, SeenOrder


@dataclass(frozen=True)
class StatusChange:
    """An order's status before and after an event."""

    #: the status last seen, or None for an order never seen before
    before: str | None
    after: str
    #: False when the payload is older than one already seen (a late delivery)
    current: bool = True

    @property
    def changed(self) -> bool:
        return self.current and self.before != self.after


def order_state(store: str, payload: Payload) -> OrderState | None:
    """The order status a payload carries, if it is an order with an id and a status."""
    if payload.kind is not PayloadKind.RESOURCE or payload.resource != "order":
        return None
    if payload.resource_id is None or payload.status is None:
        return None
    modified = payload.data.get("date_modified_gmt") or payload.data.get("date_modified")
    return OrderState(
        store,
        str(payload.resource_id),
        payload.status,
        modified if isinstance(modified, str) else "",
    )


def compare(state: OrderState, seen: tuple[str, str] | None) -> StatusChange:
    """Compare `state` with the last status seen for its order, and that status's date."""
    if seen is None:
        return StatusChange(None, state.status)
    before, seen_modified = seen
    # Both come from WooCommerce in one ISO 8601 format, so text order is time order.
    stale = bool(state.modified and seen_modified and state.modified < seen_modified)
    return StatusChange(before, state.status, current=not stale)


def recovery_duplicate(
    recovered: bool, topic: str, state: OrderState, seen: SeenOrder | None
) -> str | None:
    """Why an order event repeats what the bridge already said, when a gap filled through
    the REST API is involved (None: it does not).

    A recovered state the bridge has seen (through a webhook, or an earlier recovery) sends
    nothing; nor does a webhook that arrives late with the state a recovery already told.
    """
    if seen is None:
        return None
    not_newer = not state.modified or not seen.modified or state.modified <= seen.modified
    if recovered:
        if seen.status == state.status or state.modified < seen.modified:
            return f"recovered, but already seen ({seen.status} at {seen.modified})"
        return None
    if seen.recovered and (
        not_newer or (topic.endswith(".created") and seen.status == state.status)
    ):
        return f"already recovered through the REST API ({seen.status} at {seen.modified})"
    return None
