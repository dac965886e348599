"""/metrics in Prometheus format, counting what really happened."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bridge.config import Settings
from tests.fakes.telegram import FakeTelegram, Reply
from tests.helpers import deliver, eventually, wire, write_config


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
    assert samples[("bridge_telegram_429_total", ())] == 1
    assert samples[("bridge_send_latency_seconds_count", ())] == 1
    assert samples[("bridge_queue_depth", ())] == 0


async def test_dead_letters_are_counted(bridge: TestClient, fake_telegram: FakeTelegram) -> None:
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
