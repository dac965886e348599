"""The order status memory, in a real SQLite database."""

from __future__ import annotations

from bridge.queue.models import OrderState
from bridge.queue.storage import Storage
from bridge.routing.orders import StatusChange, compare
from tests.backends import Backend


async def recall(store: Storage, state: OrderState) -> StatusChange:
    """What the router sees: `state` against the order's last stored status."""
    return compare(state, await store.order_status(state.store, state.order_id))


async def test_remembers_the_last_status_per_shop_and_order(backend: Backend) -> None:
    store = await backend.open()
    try:
        first = OrderState("https://a.example/", "727", "pending", "2024-01-01T10:00:00")
        assert await recall(store, first) == StatusChange(None, "pending")
        await store.remember_order_status(first, 1)

        paid = OrderState("https://a.example/", "727", "processing", "2024-01-01T10:05:00")
        assert await recall(store, paid) == StatusChange("pending", "processing")
        await store.remember_order_status(paid, 2)

        again = OrderState("https://a.example/", "727", "processing", "2024-01-01T10:06:00")
        assert not (await recall(store, again)).changed

        other_shop = OrderState("https://b.example/", "727", "processing", "2024-01-01T10:05:00")
        assert await recall(store, other_shop) == StatusChange(None, "processing")
    finally:
        await store.close()


async def test_a_late_delivery_changes_nothing(backend: Backend) -> None:
    store = await backend.open()
    try:
        newer = OrderState("s", "1", "completed", "2024-01-01T12:00:00")
        await store.remember_order_status(newer, 2)
        older = OrderState("s", "1", "processing", "2024-01-01T11:00:00")
        change = await recall(store, older)
        assert change.before == "completed"
        assert not change.current
        assert not change.changed
        await store.remember_order_status(older, 1)  # ignored: a newer status is known
        assert (await recall(store, newer)).before == "completed"
    finally:
        await store.close()
