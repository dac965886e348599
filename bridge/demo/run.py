"""`woo-bridge demo`: the whole bridge on this machine, with a stand-in for Telegram.

It starts the real bridge (the same app as `serve`) with three chats, sends it the
sample payloads exactly as WooCommerce would (signed, on the wire as PHP encodes them),
and shows what each chat receives. No token, no network, nothing left behind.
"""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from bridge.app import create_app
from bridge.config import Settings
from bridge.demo.deliveries import delivery_headers, ping_body, wire_bytes
from bridge.demo.telegram import DemoTelegram, SentMessage
from bridge.render.samples import resource_body
from bridge.render.telegram_html import visible_text

SECRET = "demo-webhook-secret"  # noqa: S105 - the demo signs its own sample deliveries
STORE_URL = "https://shop.example.com"
CHATS = {-1001: "Orders", -1002: "Stock", -1003: "Admins"}
ROUTES = """
[[routes]]
name = "orders"
chat_id = -1001
topics = ["order.*"]

[[routes]]
name = "stock"
chat_id = -1002
topics = ["product.*"]

[[routes]]
name = "admins"
chat_id = -1003
topics = ["customer.*", "coupon.*", "order.created"]
silent = true
"""


@dataclass(frozen=True)
class Step:
    """One delivery of the demo, as WooCommerce would make it."""

    label: str
    topic: str | None  # None for the unsigned ping
    body: bytes
    secret: str = SECRET
    #: how many messages this step should produce, over all chats
    messages: int = 0


def steps() -> list[Step]:
    """The demo's deliveries: a ping, each resource, a status change, and what is refused."""
    order = json.loads(resource_body("order"))
    completed = copy.deepcopy(order)
    completed.update(status="completed", date_modified_gmt="2017-03-23T09:12:00")
    resaved = copy.deepcopy(completed)
    resaved["date_modified_gmt"] = "2017-03-23T09:15:00"  # saved again, same status
    body = {
        name: wire_bytes(json.loads(resource_body(name)))
        for name in ("product", "customer", "coupon")
    }
    return [
        Step("WooCommerce's ping when the webhook is saved", None, ping_body()),
        Step("a new order", "order.created", wire_bytes(order), messages=2),
        Step("the same delivery again (sends nothing)", "order.created", wire_bytes(order)),
        Step("the order is completed", "order.updated", wire_bytes(completed), messages=1),
        Step("saved again, status unchanged (sends nothing)", "order.updated", wire_bytes(resaved)),
        Step("a product is updated", "product.updated", body["product"], messages=1),
        Step("a new customer", "customer.created", body["customer"], messages=1),
        Step("a new coupon", "coupon.created", body["coupon"], messages=1),
        Step("a delivery with a wrong signature", "order.created", wire_bytes(order), "wrong"),
    ]


async def run_demo(language: str, show_html: bool, say: Callable[[str], None]) -> int:
    """Run the demo, writing what happens through `say`; returns the exit status."""
    fake = DemoTelegram(token="123456:DEMO")  # noqa: S106 - the stand-in's own token
    telegram = web.AppRunner(fake.app(), access_log=None)
    await telegram.setup()
    telegram_port = _free_port()
    await web.TCPSite(telegram, "127.0.0.1", telegram_port).start()
    with tempfile.TemporaryDirectory(prefix="woo-bridge-demo-") as folder:
        settings = _settings(
            Path(folder), f"http://127.0.0.1:{telegram_port}", fake.token, language
        )
        bridge = web.AppRunner(create_app(settings), access_log=None)
        await bridge.setup()
        await web.TCPSite(bridge, "127.0.0.1", settings.bridge_port).start()
        try:
            expected = await _deliver_all(f"http://127.0.0.1:{settings.bridge_port}", say)
            await fake.wait_for_messages(expected, timeout=15)
            _show(fake.sent, show_html, say)
        finally:
            await bridge.cleanup()
            await telegram.cleanup()
    say(
        f"\n{len(fake.sent)} messages in {len({m.chat_id for m in fake.sent})} chats; "
        "nothing left the machine."
    )
    return 0


async def _deliver_all(url: str, say: Callable[[str], None]) -> int:
    say("WooCommerce delivers to the bridge:")
    expected = 0
    async with aiohttp.ClientSession() as session:
        for step in steps():
            if step.topic is None:
                headers = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
            else:
                headers = delivery_headers(step.topic, step.body, step.secret)
            async with session.post(f"{url}/webhook", data=step.body, headers=headers) as answer:
                detail = await answer.json() if answer.content_type == "application/json" else {}
            outcome = detail.get("status") or detail.get("error") or "ok"
            say(f"  {answer.status}  {step.topic or 'ping':<17} {step.label}: {outcome}")
            expected += step.messages
    return expected


def _show(sent: list[SentMessage], show_html: bool, say: Callable[[str], None]) -> None:
    for chat_id, name in CHATS.items():
        messages = [m for m in sent if m.chat_id == chat_id]
        say(f"\n── Telegram chat “{name}” ({chat_id}): {len(messages)} message(s) ──")
        for message in messages:
            say("")
            say(message.text if show_html else visible_text(message.text))
            for label, link in _buttons(message.reply_markup):
                say(f"[ {label} ] → {link}")
            if message.silent:
                say("(sent silently)")


def _buttons(markup: dict[str, Any] | None) -> list[tuple[str, str]]:
    rows = (markup or {}).get("inline_keyboard") or []
    return [(b.get("text", ""), b.get("url", "")) for row in rows for b in row]


def _settings(folder: Path, telegram_url: str, token: str, language: str) -> Settings:
    routes = folder / "routes.toml"
    routes.write_text(ROUTES, encoding="utf-8")
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=SecretStr(token),
        telegram_api_base_url=telegram_url,
        telegram_chat_id=None,  # the routes below name the chats
        woocommerce_webhook_secret=SecretStr(SECRET),
        woocommerce_store_url=STORE_URL,
        bridge_config=routes,
        bridge_language=language,
        bridge_data_dir=folder / "data",
        bridge_host="127.0.0.1",
        bridge_port=_free_port(),
        bridge_poll_timeout_seconds=1,
        bridge_rate_chat_interval_seconds=0,
        bridge_log_level="WARNING",
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main(language: str, show_html: bool) -> int:
    return asyncio.run(run_demo(language, show_html, print))
