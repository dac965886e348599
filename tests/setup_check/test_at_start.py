"""The setup check at start-up: in the background, each problem logged once, shown by /status;
and `woo-bridge check --online` as a script sees it."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bridge.config import Settings
from bridge.keys import SETUP
from tests.fakes.telegram import FakeTelegram
from tests.helpers import CHAT_ID, REPO, deliver, eventually, replies, wire

StartBridge = Callable[..., Awaitable[TestClient]]
ADMIN = 42


async def test_problems_are_logged_once_and_shown_by_status(
    start_bridge: StartBridge,
    make_settings: Callable[..., Settings],
    fake_telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_telegram.migrated_chats[-1077] = -1009077
    caplog.set_level(logging.WARNING, logger="bridge.setup_check")
    client = await start_bridge(make_settings(telegram_alert_chat_id=-1077))
    report = client.server.app[SETUP]
    await eventually(lambda: report.finished_at is not None)
    [problem] = report.problems
    assert "became the supergroup -1009077" in problem.text
    logged = [r.getMessage() for r in caplog.records if "setup check" in r.getMessage()]
    assert logged == [f"setup check: {problem.text}"]

    # Intake and sending never waited for it.
    await deliver(client, "order.created", wire("order"))
    await fake_telegram.wait_for_messages(1)

    fake_telegram.send_command("/status", chat_id=ADMIN, user_id=ADMIN, chat_type="private")
    status = (await replies(fake_telegram, ADMIN, 1))[-1].text
    assert "Setup check: 1 problem(s)" in status
    assert "became the supergroup -1009077" in status
    assert fake_telegram.token not in status


async def test_a_good_setup_says_so_in_status(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    report = bridge.server.app[SETUP]
    await eventually(lambda: report.finished_at is not None)
    assert report.problems == []
    assert any(m == "getChat" and int(p["chat_id"]) == CHAT_ID for m, p in fake_telegram.calls)
    fake_telegram.send_command("/status", chat_id=ADMIN, user_id=ADMIN, chat_type="private")
    status = (await replies(fake_telegram, ADMIN, 1))[-1].text
    assert "Setup check: all is well (2 checks)" in status


async def check_online(
    server: TestServer, fake: FakeTelegram, tmp_path: Path, *args: str, token: str = ""
) -> tuple[int, str]:
    """Run `woo-bridge check --online` as a child process (it runs its own event loop)."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "TELEGRAM_BOT_TOKEN": token or fake.token,
        "TELEGRAM_API_BASE_URL": str(server.make_url("")).rstrip("/"),
        "TELEGRAM_CHAT_ID": str(CHAT_ID),
        "WOOCOMMERCE_WEBHOOK_SECRET": "s3cret-webhook",
        "WOOCOMMERCE_STORE_URL": "https://shop.example.com",
        "BRIDGE_DATA_DIR": str(tmp_path / "data"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        "check",
        "--online",
        *args,
        env=environment,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_the_exit_status_tells_a_script_whether_all_is_well(
    telegram: tuple[FakeTelegram, TestServer], tmp_path: Path
) -> None:
    fake, server = telegram
    status, out = await check_online(server, fake, tmp_path, "--send-test")
    assert status == 0, out
    assert "ok       TELEGRAM_BOT_TOKEN works: the bot is @shop_bridge_bot" in out
    assert f"chat {CHAT_ID}" in out
    assert "test message sent" in out
    assert [m.chat_id for m in fake.sent] == [CHAT_ID]

    fake.forbidden_chats.add(CHAT_ID)
    status, out = await check_online(server, fake, tmp_path)
    assert status == 2
    assert "error    chat" in out
    assert "add it to the chat again" in out

    wrong = "777:WRONG-SECRET-TOKEN"
    status, out = await check_online(server, fake, tmp_path, token=wrong)
    assert status == 2
    assert "rejected TELEGRAM_BOT_TOKEN" in out
    assert "WRONG-SECRET-TOKEN" not in out
    assert "s3cret-webhook" not in out


async def test_group_chats_do_not_see_the_setup_check(
    bridge: TestClient, fake_telegram: FakeTelegram
) -> None:
    report = bridge.server.app[SETUP]
    await eventually(lambda: report.finished_at is not None)
    fake_telegram.send_command("/status", chat_id=CHAT_ID, user_id=ADMIN)
    status = (await replies(fake_telegram, CHAT_ID, 1))[-1].text
    assert "Queued for this chat" in status
    assert "Setup check" not in status
