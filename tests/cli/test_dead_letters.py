"""`woo-bridge dead-letters` and `woo-bridge replay`, run as the commands they are."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp.test_utils import TestClient

from bridge.config import Settings
from tests.fakes.telegram import FakeTelegram
from tests.helpers import CHAT_ID, deliver, eventually, wire

StartBridge = Callable[..., Awaitable[TestClient]]


def woo_bridge(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        env={"PATH": os.environ.get("PATH", ""), "BRIDGE_DATA_DIR": str(data_dir)},
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def dead_letters(database: Path) -> int:
    conn = sqlite3.connect(database)
    try:
        count: int = conn.execute("SELECT count(*) FROM messages WHERE status = 'dead'").fetchone()[
            0
        ]
        return count
    finally:
        conn.close()


async def test_list_then_replay_dead_letters(
    start_bridge: StartBridge, settings: Settings, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.forbidden_chats.add(CHAT_ID)
    first = await start_bridge(settings)
    await deliver(first, "order.created", wire("order"))
    await deliver(first, "product.created", wire("product"))
    # Wait on the database itself: a command run here would block the bridge's event loop.
    await eventually(lambda: dead_letters(settings.database_path) == 2)
    await first.close()

    listing = woo_bridge(settings.bridge_data_dir, "dead-letters")
    assert listing.returncode == 0
    lines = [line for line in listing.stdout.splitlines() if "Forbidden" in line]
    assert len(lines) == 2
    assert "order.created" in listing.stdout
    assert "product.created" in listing.stdout

    fake_telegram.forbidden_chats.clear()
    assert woo_bridge(settings.bridge_data_dir, "replay", "--id", "999").returncode == 1
    replayed = woo_bridge(settings.bridge_data_dir, "replay", "--all")
    assert replayed.returncode == 0
    assert "Queued 2 message(s)" in replayed.stdout

    await start_bridge(settings)
    sent = await fake_telegram.wait_for_messages(2)
    assert "New order #727" in sent[0].text
    assert "Premium Quality" in sent[1].text
    assert woo_bridge(settings.bridge_data_dir, "dead-letters").stdout.startswith("No dead letters")


def test_without_a_database_the_commands_say_where_they_looked(tmp_path: Path) -> None:
    result = woo_bridge(tmp_path / "nowhere", "dead-letters")
    assert result.returncode == 2
    assert "BRIDGE_DATA_DIR" in result.stderr


def test_replay_needs_a_choice(tmp_path: Path) -> None:
    result = woo_bridge(tmp_path, "replay")
    assert result.returncode == 2
    assert "--id" in result.stderr
