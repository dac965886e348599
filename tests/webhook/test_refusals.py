"""Refusals cannot fill the disk: values from requests are cut short, only WooCommerce's
own ping passes unsigned, refusals are logged once per reason per interval, and
compressed bodies are refused before they are read."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from bridge.config import Settings
from bridge.refusals import RefusalLog
from tests.helpers import deliver, wire

StartBridge = Callable[..., Awaitable[TestClient]]
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}


def bridge_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The bridge's own lines (the test server's access log is not the bridge's)."""
    return [r for r in caplog.records if r.name.startswith("bridge")]


def logged_bytes(caplog: pytest.LogCaptureFixture) -> int:
    return sum(len(record.getMessage()) for record in bridge_records(caplog))


async def test_only_woocommerces_ping_passes_unsigned(
    bridge: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = await bridge.post("/webhook", data=b"webhook_id=12", headers=FORM)
    assert response.status == 200
    assert await response.text() == "ok"
    huge = b"webhook_id=" + b"1" * 1_000_000
    for body in (huge, b"webhook_id=12&x=1", b"webhook_id=abc"):
        response = await bridge.post("/webhook", data=body, headers=FORM)
        assert response.status == 401, body[:20]
    assert logged_bytes(caplog) < 2000  # the 1 MB id is not in the log


async def test_request_values_are_cut_short_in_the_log(
    bridge: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    headers = {"X-WC-Webhook-Topic": "t" * 8000, "X-WC-Webhook-ID": "9" * 8000}
    assert (await deliver(bridge, "x", b"{}", secret="wrong", headers=headers)).status == 401
    assert (await bridge.post("/webhook/" + "s" * 4000, data=b"{}")).status == 404
    refusals = [r.getMessage() for r in bridge_records(caplog) if r.levelno == logging.WARNING]
    assert len(refusals) == 2
    assert all(len(message) < 600 for message in refusals), refusals


async def test_refusals_are_logged_once_per_reason_per_interval(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    client = await start_bridge(make_settings(bridge_refusal_log_interval_seconds=3600))
    headers = {"X-WC-Webhook-Topic": "t" * 8000, "X-WC-Webhook-ID": "9" * 8000}
    for _ in range(200):
        response = await deliver(client, "order.created", b"{}", secret="x", headers=headers)
        assert response.status == 401
        assert (await client.post("/webhook/nope", data=b"{}")).status == 404
    warnings = [r for r in bridge_records(caplog) if r.levelno == logging.WARNING]
    assert len(warnings) == 2  # one per reason: a bad signature, an unknown store
    assert logged_bytes(caplog) < 2000
    # Refused deliveries are still counted in full.
    metrics = await (await client.get("/metrics")).text()
    assert 'bridge_signature_failures_total{store="default"} 200.0' in metrics


def test_the_next_line_after_the_interval_counts_those_left_out() -> None:
    now = [0.0]
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("test.refusals")
    logger.addHandler(Collect())
    logger.propagate = False
    refusals = RefusalLog(logger, 60.0, clock=lambda: now[0])
    for _ in range(5):
        refusals.warning("a", "refused %s", "x")
    refusals.warning("b", "other")
    now[0] = 61.0
    refusals.warning("a", "refused %s", "y")
    assert records == [
        "refused x",
        "other",
        "refused y (4 more like it since the last such line, not logged)",
    ]


async def test_a_compressed_body_gets_415_and_nothing_is_stored(
    bridge: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body = gzip.compress(wire("order"))
    for encoding in ("gzip", "deflate", "br", "x-anything"):
        response = await deliver(
            bridge, "order.created", body, headers={"Content-Encoding": encoding}
        )
        assert response.status == 415, encoding
        assert "uncompressed" in (await response.json())["error"]
    # identity is no compression at all
    response = await deliver(
        bridge, "order.created", wire("order"), headers={"Content-Encoding": "identity"}
    )
    assert response.status == 200
