"""The orders ledger: written in the routing transaction, newest state kept, pruned apart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiohttp.test_utils import TestClient

from bridge.queue.models import LedgerRow
from bridge.queue.retention import DAY, Retention, prune_forever
from bridge.routing.ledger import row_of_order
from tests.backends import Backend
from tests.fakes.clock import ShiftedClock
from tests.helpers import db_rows, deliver, eventually, order_body, store_of

PLACED = datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC).timestamp()


async def test_an_order_event_writes_its_ledger_row_and_a_newer_state_replaces_it(
    bridge: TestClient,
) -> None:
    store = store_of(bridge)
    await deliver(bridge, "order.created", order_body(saved=1, status="processing"))

    async def written() -> bool:
        return len(await store.ledger_rows(0, 2e9)) == 1

    await eventually(written)
    refund = [{"id": 9, "reason": "", "total": "-6.00"}]
    await deliver(bridge, "order.updated", order_body(saved=5, status="refunded", refunds=refund))
    await deliver(bridge, "order.updated", order_body(saved=3, status="completed"))  # late

    async def refunded() -> bool:
        rows = await store.ledger_rows(0, PLACED + 1)
        return bool(rows) and rows[0].status == "refunded"

    await eventually(refunded)
    await eventually(lambda: not db_rows(bridge, "SELECT id FROM events WHERE state = 'new'"))
    (row,) = await store.ledger_rows(0, PLACED + 1)
    assert row == LedgerRow(
        store="default",
        order_id="727",
        status="refunded",
        currency="USD",
        total="29.35",
        refunded="6.00",
        items=(
            ("Woo Single #1", 2, "6.00"),
            ("Ship Your Idea &ndash; Color: Black, Size: M Test", 1, "12.00"),
        ),
        customer=row.customer,
        created_at=PLACED,
        modified="2024-05-01T10:05:00",
    )
    # A guest is known by a digest of the e-mail, never by the address itself.
    assert row.customer.startswith("guest:")
    assert "example" not in row.customer
    assert await store.ledger_start() == PLACED
    assert await store.known_customers(PLACED + 1) == {("default", row.customer)}
    assert await store.known_customers(PLACED) == set()


def test_a_payload_without_id_status_or_date_gives_no_row() -> None:
    assert row_of_order("s", {"id": 1, "status": "processing"}) is None
    assert row_of_order("s", {"status": "processing", "date_created_gmt": "2024-01-01"}) is None
    row = row_of_order(
        "s",
        {
            "id": 2,
            "status": "pending",
            "date_created_gmt": "2024-01-01T00:00:00",
            "total": "oops",
            "customer_id": 5,
            "line_items": [{"quantity": 3}],
        },
    )
    assert row is not None
    assert (row.total, row.customer, row.items) == ("0", "id:5", (("#?", 3, "0"),))


async def test_the_ledger_keeps_its_own_retention(backend: Backend) -> None:
    clock = ShiftedClock()
    store = await backend.open(clock)
    try:
        now = clock.time()
        for n, age in enumerate((10, 399, 401)):
            await store.record_ledger(_row(str(n), now - age * DAY))
        task = asyncio.create_task(
            prune_forever(store, Retention(finished_days=7, ledger_days=400), clock)
        )

        async def pruned() -> bool:
            return len(await store.ledger_rows(0, now)) == 2

        await eventually(pruned)
        task.cancel()
        assert [r.order_id for r in await store.ledger_rows(0, now)] == ["1", "0"]
        assert [r.order_id for r in await store.ledger_rows(0, now, store="other")] == []
    finally:
        await store.close()


def _row(order_id: str, created: float) -> LedgerRow:
    return LedgerRow("s", order_id, "completed", "VND", "100000", "0", (), "", created, "")
