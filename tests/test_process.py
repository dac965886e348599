"""The real `woo-bridge serve` process: killed with SIGKILL, stopped with SIGTERM, restarted.

Telegram is the stand-in server running in the test process; the bridge is a child
process, so a kill is a real kill.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.fakes.deliveries import delivery_headers
from tests.fakes.telegram import FakeTelegram, Reply
from tests.helpers import CHAT_ID, SECRET, free_port, numbered_order, order_numbers

#: what keeps a bridge process's retries, polls and rate limits short in tests
QUICK_SETTINGS = {
    "BRIDGE_RETRY_BASE_SECONDS": "0.05",
    "BRIDGE_RETRY_MAX_SECONDS": "0.2",
    "BRIDGE_POLL_TIMEOUT_SECONDS": "1",
    "BRIDGE_RATE_CHAT_INTERVAL_SECONDS": "0",
    "BRIDGE_RATE_GROUP_PER_MINUTE": "100000",
    "BRIDGE_SEND_TIMEOUT_SECONDS": "5",
}


class BridgeProcess:
    """One `python -m bridge serve` child process and how to talk to it."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.url = f"http://127.0.0.1:{env['BRIDGE_PORT']}"
        self._log = log
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        """Start the process and wait until it answers /healthz."""
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bridge", "serve"], env=self.env, stderr=log, stdout=log
            )
        async with aiohttp.ClientSession() as session, asyncio.timeout(30):
            while True:
                try:
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                assert self.process.poll() is None, self._log.read_text()
                await asyncio.sleep(0.05)

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, timeout: float) -> int:
        assert self.process is not None
        async with asyncio.timeout(timeout):
            while self.process.poll() is None:
                await asyncio.sleep(0.02)
        return self.process.returncode

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def statuses(self) -> list[str]:
        conn = sqlite3.connect(Path(self.env["BRIDGE_DATA_DIR"]) / "bridge.sqlite3")
        try:
            return [row[0] for row in conn.execute("SELECT status FROM messages ORDER BY id")]
        finally:
            conn.close()


@pytest.fixture
def bridge_process(
    telegram: tuple[FakeTelegram, TestServer], tmp_path: Path
) -> Iterator[Callable[..., BridgeProcess]]:
    fake, server = telegram
    made: list[BridgeProcess] = []

    def make(**overrides: str) -> BridgeProcess:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": str(server.make_url("")).rstrip("/"),
            "TELEGRAM_CHAT_ID": str(CHAT_ID),
            "WOOCOMMERCE_WEBHOOK_SECRET": SECRET,
            "BRIDGE_DATA_DIR": str(tmp_path / "data"),
            "BRIDGE_HOST": "127.0.0.1",
            "BRIDGE_PORT": str(free_port()),
            **QUICK_SETTINGS,
            **overrides,
        }
        process = BridgeProcess(env, tmp_path / f"bridge-{len(made)}.log")
        made.append(process)
        return process

    yield make
    for process in made:
        process.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post(http: aiohttp.ClientSession, url: str, body: bytes) -> int:
    headers = delivery_headers("order.created", body, SECRET)
    async with http.post(f"{url}/webhook", data=body, headers=headers) as response:
        return response.status


async def test_sigkill_mid_stream_loses_no_acknowledged_webhook(
    bridge_process: Callable[..., BridgeProcess],
    fake_telegram: FakeTelegram,
    http: aiohttp.ClientSession,
) -> None:
    first = bridge_process()
    await first.start()
    fake_telegram.send_delay = 0.05  # sending lags behind intake, so the kill finds a backlog
    acknowledged: list[int] = []

    async def send(number: int) -> None:
        try:
            if await post(http, first.url, numbered_order(number)) == 200:
                acknowledged.append(number)
        except aiohttp.ClientError:
            pass  # in flight when the process died: WooCommerce would log a failure

    senders = [asyncio.create_task(send(n)) for n in range(1, 81)]
    while len(acknowledged) < 40:
        await asyncio.sleep(0.01)
    first.signal(signal.SIGKILL)
    await asyncio.gather(*senders)
    assert await first.wait(5) == -signal.SIGKILL
    delivered_before_restart = len(fake_telegram.sent)
    assert delivered_before_restart < len(acknowledged)  # the kill really cut the stream

    second = bridge_process(BRIDGE_PORT=first.env["BRIDGE_PORT"])
    fake_telegram.send_delay = 0
    await second.start()
    async with asyncio.timeout(20):
        while not set(acknowledged) <= set(order_numbers(fake_telegram.sent)):
            await asyncio.sleep(0.05)
    numbers = order_numbers(fake_telegram.sent)
    duplicates = len(numbers) - len(set(numbers))
    # One chat sends one message at a time: at most the one in flight is sent twice.
    assert duplicates <= 1


async def test_sigterm_finishes_the_send_in_flight(
    bridge_process: Callable[..., BridgeProcess],
    fake_telegram: FakeTelegram,
    http: aiohttp.ClientSession,
) -> None:
    bridge = bridge_process()
    await bridge.start()
    fake_telegram.send_delay = 1.0
    assert await post(http, bridge.url, numbered_order(1)) == 200
    while not any(method == "sendMessage" for method, _ in fake_telegram.calls):
        await asyncio.sleep(0.01)
    bridge.signal(signal.SIGTERM)
    assert await bridge.wait(10) == 0
    assert order_numbers(fake_telegram.sent) == [1]
    assert bridge.statuses() == ["sent"]  # recorded, so a restart does not send it again


async def test_second_sigterm_exits_at_once_and_loses_nothing(
    bridge_process: Callable[..., BridgeProcess],
    fake_telegram: FakeTelegram,
    http: aiohttp.ClientSession,
) -> None:
    bridge = bridge_process(BRIDGE_SHUTDOWN_GRACE_SECONDS="30")
    await bridge.start()
    fake_telegram.script("sendMessage", Reply(hang=True))
    assert await post(http, bridge.url, numbered_order(7)) == 200
    while not any(method == "sendMessage" for method, _ in fake_telegram.calls):
        await asyncio.sleep(0.01)
    bridge.signal(signal.SIGTERM)
    await asyncio.sleep(0.3)
    assert bridge.process is not None
    assert bridge.process.poll() is None  # still draining
    bridge.signal(signal.SIGTERM)
    assert await bridge.wait(3) != 0

    again = bridge_process(BRIDGE_PORT=bridge.env["BRIDGE_PORT"])
    await again.start()
    async with asyncio.timeout(10):
        while order_numbers(fake_telegram.sent) != [7]:
            await asyncio.sleep(0.05)


async def test_json_logs_carry_no_secret_and_no_customer_data(
    bridge_process: Callable[..., BridgeProcess],
    fake_telegram: FakeTelegram,
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    bridge = bridge_process(BRIDGE_LOG_FORMAT="json", BRIDGE_LOG_LEVEL="INFO")
    await bridge.start()
    assert await post(http, bridge.url, numbered_order(5)) == 200
    async with asyncio.timeout(10):
        while order_numbers(fake_telegram.sent) != [5]:
            await asyncio.sleep(0.02)
    bridge.signal(signal.SIGTERM)
    assert await bridge.wait(10) == 0
    lines = (tmp_path / "bridge-0.log").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any("accepted order.created of store default" in e["message"] for e in entries)
    text = "\n".join(lines)
    for private in (fake_telegram.token, SECRET, "John", "john.doe@example.com", "555-5555"):
        assert private not in text
