"""The order status memory, in a real SQLite database."""

from __future__ import annotations

from pathlib import Path

from bridge.queue.store import Store
from bridge.routing.orders import OrderState, StatusChange, recall, remember


async def test_remembers_the_last_status_per_shop_and_order(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        first = OrderState("https://a.example/", "727", "pending", "2024-01-01T10:00:00")
        assert await store.call(recall, first) == StatusChange(None, "pending")
        await store.call(remember, first, 1)

        paid = OrderState("https://a.example/", "727", "processing", "2024-01-01T10:05:00")
        assert await store.call(recall, paid) == StatusChange("pending", "processing")
        await store.call(remember, paid, 2)

        again = OrderState("https://a.example/", "727", "processing", "2024-01-01T10:06:00")
        assert not (await store.call(recall, again)).changed

        other_shop = OrderState("https://b.example/", "727", "processing", "2024-01-01T10:05:00")
        assert await store.call(recall, other_shop) == StatusChange(None, "processing")
    finally:
        await store.close()


async def test_a_late_delivery_changes_nothing(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db.sqlite3")
    try:
        newer = OrderState("s", "1", "completed", "2024-01-01T12:00:00")
        await store.call(remember, newer, 2)
        older = OrderState("s", "1", "processing", "2024-01-01T11:00:00")
        change = await store.call(recall, older)
        assert change.before == "completed"
        assert not change.current
        assert not change.changed
        await store.call(remember, older, 1)  # ignored: a newer status is known
        assert (await store.call(recall, newer)).before == "completed"
    finally:
        await store.close()
