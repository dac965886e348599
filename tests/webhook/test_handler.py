"""The webhook endpoint, through the real app: what WooCommerce gets back, and what is stored."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from aiohttp.test_utils import TestClient

from bridge.config import Settings
from bridge.keys import SETTINGS
from tests.helpers import deliver, wire


def store_db(client: TestClient) -> str:
    return str(client.server.app[SETTINGS].database_path)


def events_in_db(client: TestClient) -> int:
    conn = sqlite3.connect(store_db(client))
    try:
        return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    finally:
        conn.close()


async def test_ping_gets_exactly_200_and_is_not_stored(bridge: TestClient) -> None:
    response = await bridge.post(
        "/webhook",
        data=b"webhook_id=12",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
    )
    assert response.status == 200
    assert events_in_db(bridge) == 0


async def test_signed_delivery_is_stored_before_the_answer(bridge: TestClient) -> None:
    response = await deliver(bridge, "order.created", wire("order"))
    assert response.status == 200
    assert (await response.json())["status"] == "accepted"
    # Committed: a second connection sees it as soon as the answer arrives.
    assert events_in_db(bridge) == 1


async def test_missing_signature_is_refused_and_nothing_stored(bridge: TestClient) -> None:
    response = await bridge.post(
        "/webhook",
        data=wire("order"),
        headers={"X-WC-Webhook-Topic": "order.created", "Content-Type": "application/json"},
    )
    assert response.status == 401
    assert "missing" in (await response.json())["error"]
    assert events_in_db(bridge) == 0


async def test_wrong_signature_is_refused_and_nothing_stored(bridge: TestClient) -> None:
    response = await deliver(bridge, "order.created", wire("order"), secret="another secret")
    assert response.status == 401
    assert events_in_db(bridge) == 0


async def test_tampered_body_is_refused(bridge: TestClient) -> None:
    body = wire("order")
    response = await deliver(
        bridge,
        "order.created",
        body.replace(b'"total":"29.35"', b'"total":"0.01"'),
        headers={"X-WC-Webhook-Signature": "Iq9Fu58gAS+bxuXiSsW+pVW5hojZ9CbXe2VAn20m8Dc="},
    )
    assert response.status == 401


async def test_refusal_log_names_neither_secret_nor_body(bridge: TestClient, caplog) -> None:  # type: ignore[no-untyped-def]
    await deliver(bridge, "order.created", wire("order"), secret="wrong")
    logged = caplog.text
    assert "test_secret" not in logged
    assert "Ship Your Idea" not in logged
    assert "signature" in logged


async def test_same_delivery_twice_is_acknowledged_once_stored(bridge: TestClient) -> None:
    first = await deliver(bridge, "order.created", wire("order"))
    second = await deliver(bridge, "order.created", wire("order"))
    assert first.status == second.status == 200
    assert (await second.json())["status"] == "duplicate"
    assert events_in_db(bridge) == 1


async def test_trailing_slash_is_served_not_redirected(bridge: TestClient) -> None:
    response = await deliver(bridge, "order.created", wire("order"), path="/webhook/")
    assert response.status == 200
    assert events_in_db(bridge) == 1


async def test_no_redirect_anywhere_near_the_endpoint(bridge: TestClient) -> None:
    for path in ("/webhook", "/webhook/", "/webhook//", "/WEBHOOK"):
        response = await bridge.post(path, data=b"{}", allow_redirects=False)
        assert not 300 <= response.status < 400, path


async def test_oversized_body_gets_413(
    start_bridge: Callable[..., object], make_settings: Callable[..., Settings]
) -> None:
    client: TestClient = await start_bridge(make_settings(bridge_max_body_bytes=2048))  # type: ignore[misc]
    response = await deliver(client, "order.created", wire("order"))  # 2445 bytes
    assert response.status == 413
    assert events_in_db(client) == 0


async def test_signed_body_that_is_not_json_is_accepted(bridge: TestClient) -> None:
    response = await deliver(bridge, "order.created", b"<html>Fatal error</html>")
    assert response.status == 200
    assert events_in_db(bridge) == 1


async def test_locked_database_answers_503_and_recovers(bridge: TestClient) -> None:
    locker = sqlite3.connect(store_db(bridge), isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        response = await deliver(bridge, "order.created", wire("order"))
        assert response.status == 503
        ready = await bridge.get("/readyz")
        assert ready.status == 503
        assert "locked" in (await ready.json())["database"]
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert events_in_db(bridge) == 0
    response = await deliver(bridge, "order.created", wire("order"))
    assert response.status == 200
    assert events_in_db(bridge) == 1


async def test_browser_get_explains_the_endpoint(bridge: TestClient) -> None:
    response = await bridge.get("/webhook")
    assert response.status == 200
    assert "WooCommerce" in await response.text()
