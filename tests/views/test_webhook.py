"""The webhook endpoint, through the real app: what WooCommerce gets back, and what is stored."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bridge.config import Settings
from bridge.keys import SETTINGS
from tests.helpers import SECRET, deliver, wire, write_config


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
    start_bridge: Callable[..., object],
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Refused and logged, though the body arrived whole and the handler is the one to
    read it."""
    client: TestClient = await start_bridge(make_settings(bridge_max_body_bytes=2048))  # type: ignore[misc]
    response = await deliver(client, "order.created", wire("order"))  # 2445 bytes
    assert response.status == 413
    assert events_in_db(client) == 0
    assert "larger than BRIDGE_MAX_BODY_BYTES (2048 bytes), topic order.created" in caplog.text


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


# --- several stores ---------------------------------------------------------------------------

STORES = """
[[stores]]
name = "br"
secret = "br_secret"
store_url = "https://loja.example.com.br"

[[stores]]
name = "vn"
secret_file = "vn_secret.txt"
previous_secret = "vn_old"
"""


def stores_in_db(client: TestClient) -> list[str]:
    conn = sqlite3.connect(store_db(client))
    try:
        return [row[0] for row in conn.execute("SELECT store FROM events ORDER BY id")]
    finally:
        conn.close()


@pytest.fixture
async def stores(
    start_bridge: Callable[..., Awaitable[TestClient]],
    make_settings: Callable[..., Settings],
    tmp_path: Path,
) -> TestClient:
    path = write_config(tmp_path, STORES, **{"vn_secret.txt": "vn_secret\n"})
    return await start_bridge(make_settings(bridge_config=path))


async def test_each_store_takes_deliveries_signed_with_its_own_secret(stores: TestClient) -> None:
    body = wire("order")
    assert (
        await deliver(stores, "order.created", body, path="/webhook/br", secret="br_secret")
    ).status == 200
    assert (
        await deliver(stores, "order.created", body, path="/webhook/vn/", secret="vn_secret")
    ).status == 200
    assert (await deliver(stores, "order.created", body, path="/webhook")).status == 200
    # Another store's secret is a wrong secret.
    for path, secret in [
        ("/webhook/br", SECRET),
        ("/webhook/vn", "br_secret"),
        ("/webhook", "br_secret"),
    ]:
        assert (
            await deliver(stores, "order.created", body, path=path, secret=secret)
        ).status == 401
    assert stores_in_db(stores) == ["br", "vn", "default"]


@pytest.mark.parametrize(
    "path", ["/webhook/nope", "/webhook/nope/", "/webhook/BR", "/webhook/br/x"]
)
async def test_an_unknown_store_is_404_with_a_json_reason_never_a_redirect(
    stores: TestClient, path: str
) -> None:
    response = await deliver(stores, "order.created", wire("order"), path=path, secret="br_secret")
    assert response.status == 404
    if path.count("/") == 2 or path.endswith("/"):  # /webhook/<name> and /webhook/<name>/
        error = (await response.json())["error"]
        assert "is configured in this bridge" in error
        assert "no store named" in error
    get = await stores.get(path, allow_redirects=False)
    assert get.status == 404
    assert stores_in_db(stores) == []


async def test_the_ping_of_a_store_is_answered(stores: TestClient) -> None:
    response = await stores.post(
        "/webhook/vn",
        data=b"webhook_id=3",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
    )
    assert response.status == 200
    assert "vn" in await (await stores.get("/webhook/vn")).text()
    # A typo in the delivery URL shows when the webhook is saved: the ping gets 404.
    typo = await stores.post("/webhook/vm", data=b"webhook_id=3")
    assert typo.status == 404


async def test_without_the_default_store_webhook_says_where_to_deliver(
    start_bridge: Callable[..., Awaitable[TestClient]],
    make_settings: Callable[..., Settings],
    tmp_path: Path,
) -> None:
    path = write_config(tmp_path, STORES, **{"vn_secret.txt": "vn_secret"})
    client = await start_bridge(make_settings(bridge_config=path, woocommerce_webhook_secret=None))
    response = await deliver(client, "order.created", wire("order"), path="/webhook")
    assert response.status == 404
    assert (await response.json())["error"].startswith(
        "no store is configured at /webhook (WOOCOMMERCE_WEBHOOK_SECRET is not set)"
    )
    ok = await deliver(
        client, "order.created", wire("order"), path="/webhook/br", secret="br_secret"
    )
    assert ok.status == 200


async def test_the_previous_secret_is_accepted_and_logged_at_info(
    stores: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bridge.views.webhook")
    body = wire("order")
    assert (
        await deliver(stores, "order.created", body, path="/webhook/vn", secret="vn_secret")
    ).status == 200
    assert "previous secret" not in caplog.text
    updated = body.replace(b'"status":"processing"', b'"status":"completed"')
    response = await deliver(stores, "order.updated", updated, path="/webhook/vn", secret="vn_old")
    assert response.status == 200
    [record] = [r for r in caplog.records if "previous secret" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith("store vn: webhook 12 (order.updated) still signs with")
    assert "vn_old" not in caplog.text
    assert stores_in_db(stores) == ["vn", "vn"]


async def test_the_default_store_rotates_with_the_previous_secret_variable(
    start_bridge: Callable[..., Awaitable[TestClient]],
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bridge.views.webhook")
    client = await start_bridge(
        make_settings(woocommerce_webhook_secret="new", woocommerce_webhook_previous_secret=SECRET)
    )
    assert (await deliver(client, "order.created", wire("order"))).status == 200
    assert "store default: webhook 12 (order.created) still signs with" in caplog.text
    assert (await deliver(client, "product.created", wire("product"), secret="new")).status == 200
    assert (await deliver(client, "coupon.created", wire("coupon"), secret="other")).status == 401
    assert events_in_db(client) == 2
