"""No secret leaves the process: the real `woo-bridge serve`, under every fault, in both
log formats, with every answer of every endpoint and the whole log searched for each
secret and for any piece of the bot token longer than 8 characters.

The faults run side by side, one child process each, so the test stays fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.fakes.deliveries import delivery_headers
from tests.fakes.telegram import FakeTelegram, Reply
from tests.helpers import CHAT_ID, free_port, wire
from tests.proxies import running_proxy

# Distinctive values, each easy to find wherever it might leak. The bot's id (before the
# colon) is public and shorter than the 9 characters searched for.
TOKEN = "55123:AAH-distinct_TOKEN-Zq9x4711"
WEBHOOK_SECRET = "wh-current-SECRET-Kq81x"
PREVIOUS_SECRET = "wh-previous-SECRET-Lm22y"
STORE_SECRET = "store-vn-SECRET-Pp93z"
STORE_PREVIOUS = "store-vn-PREVIOUS-Rr04w"
TELEGRAM_HOOK_SECRET = "tg-hook-SECRET-Ss55v"
PROXY_PASSWORD = "proxy-PASS-SECRET-Tt66u"
CONSUMER_SECRET = "cs_consumer-SECRET-Uu77t"
SECRETS = (
    CONSUMER_SECRET,
    WEBHOOK_SECRET,
    PREVIOUS_SECRET,
    STORE_SECRET,
    STORE_PREVIOUS,
    TELEGRAM_HOOK_SECRET,
    PROXY_PASSWORD,
)
HOOK_URL = "https://bridge.example.com/telegram"


def leaks(text: str) -> list[str]:
    """Every secret, and every piece of the token longer than 8 characters, in `text`."""
    found = [secret for secret in SECRETS if secret in text]
    pieces = {TOKEN[i : i + 9] for i in range(len(TOKEN) - 8)}
    return found + sorted(piece for piece in pieces if piece in text)


@dataclass
class Run:
    """One bridge process under one fault, and everything it said."""

    fault: str
    env: dict[str, str]
    log: Path
    #: what /healthz says of Telegram once the fault shows, and a line the log must hold
    telegram: str = "ok"
    expect_line: str = ""
    answers: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    returncode: int | None = None
    #: what /healthz said of Telegram once it had started
    seen: str = ""
    #: what else to wait for before stopping the process
    done: Callable[[], bool] = lambda: True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['BRIDGE_PORT']}"

    def record(self, name: str, response: aiohttp.ClientResponse, body: bytes) -> None:
        self.statuses[name] = response.status
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        self.answers.append(f"{name} -> {response.status}\n{headers}\n{body.decode()}")


async def _request(
    run: Run, http: aiohttp.ClientSession, name: str, method: str, path: str, **kwargs: Any
) -> None:
    async with http.request(method, run.url + path, allow_redirects=False, **kwargs) as response:
        run.record(name, response, await response.read())


async def _signed(
    run: Run, http: aiohttp.ClientSession, name: str, path: str, secret: str, body: bytes
) -> None:
    headers = delivery_headers("order.created", body, secret)
    await _request(run, http, name, "POST", path, data=body, headers=headers)


async def _health(run: Run, http: aiohttp.ClientSession) -> dict[str, Any]:
    async with http.get(run.url + "/healthz") as response:
        data: dict[str, Any] = await response.json()
        return data


async def exercise(run: Run, http: aiohttp.ClientSession) -> None:
    """Every unauthenticated endpoint, in every answer it can give."""
    order = wire("order")
    for name in ("healthz", "readyz", "metrics"):
        await _request(run, http, name, "GET", f"/{name}")
    await _signed(run, http, "webhook", "/webhook", WEBHOOK_SECRET, order)
    await _signed(run, http, "webhook previous", "/webhook", PREVIOUS_SECRET, order + b" ")
    await _signed(run, http, "webhook 401", "/webhook", "not-the-secret", order)
    await _request(run, http, "webhook unsigned", "POST", "/webhook", data=order)
    await _signed(run, http, "webhook 413", "/webhook", WEBHOOK_SECRET, b" " * 9000)
    await _request(run, http, "webhook GET", "GET", "/webhook")
    await _signed(run, http, "store", "/webhook/shop-vn/", STORE_SECRET, order + b"  ")
    await _signed(run, http, "store previous", "/webhook/shop-vn", STORE_PREVIOUS, order + b"\n")
    await _signed(run, http, "store 401", "/webhook/shop-vn", WEBHOOK_SECRET, order)
    await _signed(run, http, "store 404", "/webhook/shop-xx", STORE_SECRET, order)
    await _request(run, http, "store GET", "GET", "/webhook/shop-xx")
    update = json.dumps({"update_id": 1}).encode()
    secret = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_HOOK_SECRET}
    await _request(run, http, "telegram no secret", "POST", "/telegram", data=update)
    wrong = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
    await _request(run, http, "telegram wrong", "POST", "/telegram", data=update, headers=wrong)
    await _request(run, http, "telegram", "POST", "/telegram", data=update, headers=secret)
    # A database that takes no writes: intake answers 503, health says so.
    database = sqlite3.connect(Path(run.env["BRIDGE_DATA_DIR"]) / "bridge.sqlite3")
    try:
        database.execute("BEGIN EXCLUSIVE")
        await _signed(run, http, "webhook 503", "/webhook", WEBHOOK_SECRET, order + b"\t")
        await _request(run, http, "healthz locked", "GET", "/healthz")
        await _request(run, http, "readyz locked", "GET", "/readyz")
    finally:
        database.rollback()
        database.close()
    await _request(run, http, "metrics after", "GET", "/metrics")


async def play(run: Run, http: aiohttp.ClientSession) -> None:
    """Start the process, wait for its fault to show, exercise it, stop it."""
    with run.log.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bridge", "serve"], env=run.env, stdout=log, stderr=log
        )
    try:
        async with asyncio.timeout(20):
            if run.fault == "config error":
                while process.poll() is None:
                    await asyncio.sleep(0.05)
                run.returncode = process.returncode
                return
            while True:
                assert process.poll() is None, run.log.read_text()
                try:
                    run.seen = (await _health(run, http)).get("telegram", "")
                    if run.seen not in ("", "starting"):
                        break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
            await exercise(run, http)
            # Let the retries and the sends write what they write (asserted afterwards).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    while run.expect_line not in run.log.read_text() or not run.done():
                        await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            while process.poll() is None:
                await asyncio.sleep(0.05)
            run.returncode = process.returncode
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def serve_fake(aiohttp_server: Any, fake: FakeTelegram) -> str:
    server: TestServer = await aiohttp_server(fake.app())
    return str(server.make_url("")).rstrip("/")


@pytest.mark.parametrize("log_format", ["plain", "json"])
async def test_no_secret_in_any_answer_or_log_line_under_any_fault(
    log_format: str, tmp_path: Path, aiohttp_server: Any
) -> None:
    good = FakeTelegram(token=TOKEN)
    # Another bot's token: this one is answered 401, as Telegram answers a revoked token.
    revoked = FakeTelegram(token="55123:someone-ELSE-entirely-42")
    missing = FakeTelegram(token=TOKEN)
    missing.outage(Reply(status=404, description="Not Found"))
    good_url = await serve_fake(aiohttp_server, good)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "store").write_text(STORE_SECRET)
    (secrets / "previous").write_text(STORE_PREVIOUS)
    config = tmp_path / "bridge.toml"
    config.write_text(
        '[[stores]]\nname = "shop-vn"\nsecret_file = "secrets/store"\n'
        'previous_secret_file = "secrets/previous"\n'
    )

    async with running_proxy("socks5", "shop", PROXY_PASSWORD) as proxy:

        def run(fault: str, telegram: str, expect_line: str, **overrides: str) -> Run:
            folder = tmp_path / fault.replace(" ", "-")
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": good_url,
                "TELEGRAM_CHAT_ID": str(CHAT_ID),
                "WOOCOMMERCE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "WOOCOMMERCE_WEBHOOK_PREVIOUS_SECRET": PREVIOUS_SECRET,
                "BRIDGE_CONFIG": str(config),
                # Gap filling against a store that is down: its failures are logged.
                "WOOCOMMERCE_STORE_URL": f"http://127.0.0.1:{closed}",
                "WOOCOMMERCE_CONSUMER_KEY": "ck_" + "1" * 40,
                "WOOCOMMERCE_CONSUMER_SECRET": CONSUMER_SECRET,
                "BRIDGE_RECONCILE_INTERVAL_SECONDS": "0.1",
                "BRIDGE_SECRETS_DIR": "/nonexistent",
                "BRIDGE_DATA_DIR": str(folder / "data"),
                "BRIDGE_HOST": "127.0.0.1",
                "BRIDGE_PORT": str(free_port()),
                "BRIDGE_LOG_LEVEL": "DEBUG",
                "BRIDGE_LOG_FORMAT": log_format,
                "BRIDGE_MAX_BODY_BYTES": "8192",
                "BRIDGE_DB_BUSY_TIMEOUT_SECONDS": "0.1",
                "BRIDGE_RETRY_BASE_SECONDS": "0.05",
                "BRIDGE_RETRY_MAX_SECONDS": "0.2",
                "BRIDGE_POLL_TIMEOUT_SECONDS": "1",
                "BRIDGE_SEND_TIMEOUT_SECONDS": "2",
                "BRIDGE_SHUTDOWN_GRACE_SECONDS": "1",
                "BRIDGE_RATE_CHAT_INTERVAL_SECONDS": "0",
                **overrides,
            }
            folder.mkdir()
            return Run(fault, env, folder / "bridge.log", telegram, expect_line)

        closed = free_port()
        runs = [
            # Through a SOCKS5 proxy with a password, Telegram updates by webhook.
            run(
                "healthy",
                "ok",
                "is running",
                TELEGRAM_PROXY_URL=proxy.url("socks5"),
                TELEGRAM_WEBHOOK_URL=HOOK_URL,
                TELEGRAM_WEBHOOK_SECRET=TELEGRAM_HOOK_SECRET,
            ),
            run(
                "unreachable",
                "unreachable",
                f"Telegram unreachable at http://127.0.0.1:{closed} (getMe",
                TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{closed}",
            ),
            run(
                "unauthorized",
                "unauthorized",
                "Telegram rejected TELEGRAM_BOT_TOKEN",
                TELEGRAM_API_BASE_URL=await serve_fake(aiohttp_server, revoked),
                TELEGRAM_WEBHOOK_URL=HOOK_URL,
                TELEGRAM_WEBHOOK_SECRET=TELEGRAM_HOOK_SECRET,
            ),
            run(
                "not found",
                "not found",
                "Telegram answered 404 Not Found",
                TELEGRAM_API_BASE_URL=await serve_fake(aiohttp_server, missing),
            ),
            run(
                "proxy refusing",
                "unreachable",
                f"TELEGRAM_PROXY_URL=http://shop:****@127.0.0.1:{closed} (getMe",
                TELEGRAM_PROXY_URL=f"http://shop:{PROXY_PASSWORD}@127.0.0.1:{closed}",
            ),
            run(
                "config error",
                "",
                "",
                BRIDGE_PORT="not-a-port",
                TELEGRAM_PROXY_URL=f"ftp://shop:{PROXY_PASSWORD}@127.0.0.1:{closed}",
            ),
        ]
        runs[0].done = lambda: len(good.sent) >= 2
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(play(r, http) for r in runs))
        through_proxy = set(proxy.methods)

    for r in runs:
        log = r.log.read_text()
        everything = log + "\n".join(r.answers)
        assert leaks(everything) == [], (r.fault, leaks(everything), everything)
        answers = "\n".join(r.answers)
        for private in (str(CHAT_ID), "john.doe@example.com", "John Doe"):
            assert private not in answers, (r.fault, private, answers)
        assert r.expect_line in log, (r.fault, log)
        assert r.seen == r.telegram, (r.fault, r.seen)
        assert "Traceback" not in log, (r.fault, log)
        if log_format == "json" and r.fault != "config error":
            assert all(json.loads(line) for line in log.splitlines()), r.fault
    by_fault = {r.fault: r for r in runs}
    assert by_fault["config error"].returncode == 2
    assert "BRIDGE_PORT:" in by_fault["config error"].log.read_text()
    assert "TELEGRAM_PROXY_URL:" in by_fault["config error"].log.read_text()
    assert by_fault["healthy"].statuses == {
        "healthz": 200,
        "readyz": 200,
        "metrics": 200,
        "webhook": 200,
        "webhook previous": 200,
        "webhook 401": 401,
        "webhook unsigned": 401,
        "webhook 413": 413,
        "webhook GET": 200,
        "store": 200,
        "store previous": 200,
        "store 401": 401,
        "store 404": 404,
        "store GET": 404,
        "telegram no secret": 403,
        "telegram wrong": 403,
        "telegram": 200,
        "webhook 503": 503,
        "healthz locked": 200,
        "readyz locked": 503,
        "metrics after": 200,
    }
    for fault in ("unreachable", "unauthorized", "not found", "proxy refusing"):
        # Intake goes on whatever Telegram does.
        assert by_fault[fault].statuses["webhook"] == 200, fault
        assert by_fault[fault].statuses["store"] == 200, fault
        assert by_fault[fault].returncode == 0, fault
    assert through_proxy >= {"getMe", "setWebhook", "sendMessage"}
