"""Long free text: what a 1 MB customer note costs, and whether routing it holds intake.

    python -m bench.free_text [--notes 3] [--probes 100] [--note-bytes 1000000]

Renders an order with a 1 MB note (built-in templates, and a shop's template printing the
note whole), then runs a real bridge in this process, delivers `--notes` such orders and,
meanwhile, small orders one after another, timing each small delivery's answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from bench.common import header, percentile
from bridge.app import create_app
from bridge.config import Settings
from bridge.payloads import parse_payload
from bridge.render.renderer import Renderer, RenderOptions
from bridge.render.samples import resource_body
from tests.fakes.deliveries import delivery_headers
from tests.fakes.telegram import FakeTelegram

SECRET = "bench-secret"


def note(size: int) -> str:
    return ("Please leave it by the door, ring twice. " * (size // 40 + 1))[:size]


SHOP_TEMPLATE = "Order {{ order.number }}\n<i>{{ payload.customer_note }}</i>"


def order(number: int, note: str = "") -> bytes:
    body: dict[str, Any] = json.loads(resource_body("order"))
    body.update(id=number, number=str(number), customer_note=note)
    return json.dumps(body).encode()


def render_figures(shop: Path, size: int) -> None:
    payload = parse_payload("order.created", order(1, note(size)))
    for label, options in (
        ("built-in templates", RenderOptions()),
        ("a shop template printing the note whole", RenderOptions(override_dir=shop)),
    ):
        renderer = Renderer(options)
        renderer.compile_all()
        started = time.perf_counter()
        rendered = renderer.render(payload, 1)
        elapsed = (time.perf_counter() - started) * 1000
        items = "items shown" if "Woo Single #1" in rendered.parts[0] else "no item shown"
        parts = len(rendered.parts)
        print(f"- {size:,}-byte note, {label}: {elapsed:.0f} ms, {parts} message(s), {items}")


async def intake_figures(shop: Path | None, notes: int, probes: int, size: int) -> None:
    fake = FakeTelegram()
    telegram = TestServer(fake.app())
    await telegram.start_server()
    with tempfile.TemporaryDirectory() as data:
        values: dict[str, Any] = {
            "telegram_bot_token": fake.token,
            "telegram_chat_id": -100123,
            "telegram_api_base_url": str(telegram.make_url("")).rstrip("/"),
            "woocommerce_webhook_secret": SECRET,
            "bridge_data_dir": Path(data),
            "bridge_templates_dir": shop,
            "bridge_rate_chat_interval_seconds": 0.0,
            "bridge_rate_group_per_minute": 100_000,
        }
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        bridge = TestServer(create_app(settings))
        await bridge.start_server()
        url = str(bridge.make_url("/webhook"))
        async with ClientSession() as http:

            async def post(body: bytes) -> float:
                started = time.perf_counter()
                headers = delivery_headers("order.created", body, SECRET)
                async with http.post(url, data=body, headers=headers) as answer:
                    assert answer.status == 200, answer.status
                return (time.perf_counter() - started) * 1000

            for n in range(notes):
                await post(order(10_000 + n, note(size)))
            latencies = [await post(order(n)) for n in range(1, probes + 1)]
        await bridge.close()
    await telegram.close()
    templates = "a shop template printing the note" if shop else "built-in templates"
    print(
        f"- {probes} small deliveries while {notes} orders with a {size:,}-byte note are routed "
        f"({templates}): "
        f"p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, "
        f"max {max(latencies):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=3)
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--note-bytes", type=int, default=1_000_000)
    args = parser.parse_args()
    header("Long free text")
    with tempfile.TemporaryDirectory() as folder:
        shop = Path(folder)
        (shop / "order.created.html").write_text(SHOP_TEMPLATE, encoding="utf-8")
        render_figures(shop, args.note_bytes)
        for templates in (None, shop):
            asyncio.run(intake_figures(templates, args.notes, args.probes, args.note_bytes))


if __name__ == "__main__":
    main()
