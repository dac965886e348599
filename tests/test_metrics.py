"""/metrics in Prometheus format, counting what really happened."""

from __future__ import annotations

import platform
import re
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from bridge import __version__
from bridge.config import Settings
from bridge.keys import SETTINGS
from tests.fakes.telegram import FakeTelegram, Reply
from tests.helpers import deliver, eventually, free_port, wire, write_config

METRICS_DOC = Path(__file__).parents[1] / "docs" / "observability.md"


async def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def test_counts_webhooks_sends_and_failures(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.script("sendMessage", Reply(429, "Too Many Requests", retry_after=1))
    await deliver(bridge, "order.created", wire("order"))
    await deliver(bridge, "order.created", wire("order"))
    await deliver(bridge, "order.created", wire("order"), secret="wrong")
    await fake_telegram.wait_for_messages(1, timeout=5)

    async def settled() -> bool:
        return (await scrape(bridge)).get(("bridge_sends_total", (("result", "sent"),))) == 1

    await eventually(settled)
    samples = await scrape(bridge)
    accepted = (
        "bridge_webhooks_received_total",
        (("result", "accepted"), ("store", "default"), ("topic", "order.created")),
    )
    duplicate = (
        "bridge_webhooks_received_total",
        (("result", "duplicate"), ("store", "default"), ("topic", "order.created")),
    )
    assert samples[accepted] == 1
    assert samples[duplicate] == 1
    assert samples[("bridge_signature_failures_total", (("store", "default"),))] == 1
    assert samples[("bridge_telegram_rate_limited_total", ())] == 1
    assert samples[("bridge_send_latency_seconds_count", ())] == 1
    assert samples[("bridge_queue_depth", ())] == 0


async def test_dead_letters_are_counted(
    start_bridge: Callable[..., Awaitable[TestClient]],
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
) -> None:
    bridge = await start_bridge(make_settings(bridge_metrics_refresh_seconds=0.05))
    fake_telegram.forbidden_chats.add(-100123)
    await deliver(bridge, "order.created", wire("order"))

    async def dead() -> bool:
        return (await scrape(bridge)).get(("bridge_dead_letters_stored", ())) == 1

    await eventually(dead)
    assert (await scrape(bridge))[("bridge_dead_letters_total", ())] == 1


async def test_each_store_is_counted_under_its_name(
    start_bridge: Callable[..., Awaitable[TestClient]],
    make_settings: Callable[..., Settings],
    tmp_path: Path,
) -> None:
    path = write_config(
        tmp_path, '[[stores]]\nname = "br"\nsecret = "new"\nprevious_secret = "old"\n'
    )
    client = await start_bridge(make_settings(bridge_config=path))
    await deliver(client, "order.created", wire("order"), path="/webhook/br", secret="new")
    await deliver(client, "product.created", wire("product"), path="/webhook/br", secret="old")
    await deliver(client, "coupon.created", wire("coupon"), path="/webhook/br", secret="wrong")
    await deliver(client, "order.created", wire("order"))
    await deliver(client, "order.created", wire("order"), path="/webhook/typo")
    samples = await scrape(client)

    def received(store: str, topic: str, result: str) -> float:
        labels = (("result", result), ("store", store), ("topic", topic))
        return samples.get(("bridge_webhooks_received_total", labels), 0)

    assert received("br", "order.created", "accepted") == 1
    assert received("br", "product.created", "accepted") == 1
    assert received("default", "order.created", "accepted") == 1
    assert received("br", "-", "unauthorized") == 1
    assert received("-", "-", "unknown_store") == 1  # a typo in a URL makes no new label
    assert samples[("bridge_signature_failures_total", (("store", "br"),))] == 1
    assert samples[("bridge_previous_secret_used_total", (("store", "br"),))] == 1


async def test_a_scrape_never_waits_on_the_database(bridge: TestClient) -> None:
    """The gauges are counted in the background: a locked database (or a busy one, deep
    in a burst of webhooks) does not make a scrape wait, nor fail."""
    locker = sqlite3.connect(bridge.server.app[SETTINGS].database_path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        for _ in range(5):
            samples = await scrape(bridge)
        elapsed = time.monotonic() - started
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert ("bridge_queue_depth", ()) in samples
    # Each query would have waited BRIDGE_DB_BUSY_TIMEOUT_SECONDS (0.2 s) for the lock.
    assert elapsed < 0.5


async def test_metrics_on_a_port_of_their_own(
    start_bridge: Callable[..., Awaitable[TestClient]], make_settings: Callable[..., Settings]
) -> None:
    port = free_port()
    client = await start_bridge(make_settings(bridge_metrics_port=port, bridge_host="127.0.0.1"))
    assert (await client.get("/metrics")).status == 404  # not beside the webhooks any more
    assert (await client.get("/healthz")).status == 200  # the container's health check
    async with aiohttp.ClientSession() as http:
        for path in ("/metrics", "/healthz", "/readyz"):
            async with http.get(f"http://127.0.0.1:{port}{path}") as response:
                assert response.status == 200, path
            async with http.get(f"http://127.0.0.1:{port}/webhook") as response:
                assert response.status == 404  # and nothing else there


def test_the_metrics_port_cannot_be_the_webhook_port(
    make_settings: Callable[..., Settings],
) -> None:
    with pytest.raises(ValidationError, match="BRIDGE_METRICS_PORT is BRIDGE_PORT"):
        make_settings(bridge_metrics_port=8080)


async def test_process_and_build_metrics_and_no_created_series(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    await deliver(bridge, "order.created", wire("order"))
    await fake_telegram.wait_for_messages(1)
    response = await bridge.get("/metrics")
    text = await response.text()
    samples = await scrape(bridge)
    for name in (
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_cpu_seconds_total",
        "process_start_time_seconds",
    ):
        assert samples[(name, ())] > 0, name
    assert samples[("process_start_time_seconds", ())] <= time.time()
    build = (
        "bridge_build_info",
        (("python_version", platform.python_version()), ("version", __version__)),
    )
    assert samples[build] == 1
    assert any(name == "python_info" for name, _ in samples)
    # No counter, histogram or summary repeats its creation time.
    assert "_created" not in text
    assert any(name == "bridge_webhooks_received_total" for name, _ in samples)


async def test_created_series_are_dropped_only_in_the_bridges_registry(bridge: TestClient) -> None:
    """A process-wide switch would also change a host application's own metrics."""
    assert "_created" not in await (await bridge.get("/metrics")).text()
    other = CollectorRegistry()
    Counter("host_things", "a host application's counter", registry=other).inc()
    assert b"host_things_created" in generate_latest(other)


async def test_metric_names_follow_the_conventions_and_are_all_documented(
    bridge: TestClient,
) -> None:
    response = await bridge.get("/metrics")
    families = list(text_string_to_metric_families(await response.text()))
    documented = set(re.findall(r"^\| `([a-z_]+)`", METRICS_DOC.read_text(), re.M))
    for family in families:
        assert family.name.startswith(("bridge_", "process_", "python_")), family.name
        if family.type == "counter":
            assert all(s.name.endswith("_total") for s in family.samples), family.name
        exported = family.name + ("_total" if family.type == "counter" else "")
        assert exported in documented, f"{exported} is missing from docs/observability.md"
