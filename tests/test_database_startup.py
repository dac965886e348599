"""BRIDGE_DATABASE_URL at start-up: the bridge keeps its queue in PostgreSQL; a server it
cannot use stops `woo-bridge serve` with one line saying where, why and what to do (exit 2),
and no log line, whatever the fault, holds the password."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from bridge.config import Settings
from bridge.keys import STORE
from bridge.queue.postgres.store import PgStore
from tests.fakes.telegram import FakeTelegram
from tests.helpers import CHAT_ID, deliver, free_port, numbered_order
from tests.postgres import TEST_PASSWORD, PostgresServer

TOKEN = "55123:AAH-startup-TOKEN-Kk0042"
WRONG = "Wrong-DB-pass-Qq77-xyz"


async def test_the_queue_lives_in_postgresql_when_the_url_is_set(
    postgres_url: str,
    make_settings: Callable[..., Settings],
    start_bridge: Callable[..., Awaitable[TestClient]],
    fake_telegram: FakeTelegram,
) -> None:
    client = await start_bridge(make_settings(bridge_database_url=postgres_url))
    assert isinstance(client.server.app[STORE], PgStore)
    response = await deliver(client, "order.created", numbered_order(1001))
    assert response.status == 200
    conn = await asyncpg.connect(postgres_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM events") == 1
    finally:
        await conn.close()
    [message] = await fake_telegram.wait_for_messages(1)
    assert message.chat_id == CHAT_ID
    assert "1001" in message.text


def _serve(tmp_path: Path, log_format: str, **env: str) -> tuple[int, str]:
    """Run `woo-bridge serve` until it gives up; its exit status and everything it said."""
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "WOOCOMMERCE_WEBHOOK_SECRET": "wh-startup-secret-9911",
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{free_port()}",
        "BRIDGE_SECRETS_DIR": "/nonexistent",
        "BRIDGE_DATA_DIR": str(tmp_path / "data"),
        "BRIDGE_HOST": "127.0.0.1",
        "BRIDGE_PORT": str(free_port()),
        "BRIDGE_LOG_LEVEL": "DEBUG",
        "BRIDGE_LOG_FORMAT": log_format,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bridge", "serve"],
        env={**base, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("log_format", ["plain", "json"])
@pytest.mark.parametrize("fault", ["wrong password", "wrong password from a file", "no server"])
def test_a_database_it_cannot_use_stops_serve_in_one_line_without_the_password(
    tmp_path: Path,
    postgres_server: PostgresServer,
    postgres_url: str,
    fault: str,
    log_format: str,
) -> None:
    dbname = postgres_url.rpartition("/")[2]
    if fault == "wrong password":
        env = {"BRIDGE_DATABASE_URL": postgres_server.url(dbname, password=WRONG)}
        words = "authentication failed"
    elif fault == "wrong password from a file":
        password_file = tmp_path / "postgres_password"
        password_file.write_text(WRONG + "\n")
        env = {
            "BRIDGE_DATABASE_URL": postgres_url.replace(f":{TEST_PASSWORD}@", "@"),
            "BRIDGE_DATABASE_PASSWORD_FILE": str(password_file),
        }
        words = "authentication failed"
    else:
        env = {"BRIDGE_DATABASE_URL": f"postgresql://bridge:{WRONG}@127.0.0.1:{free_port()}/db"}
        words = "connection refused"
    status, output = _serve(tmp_path, log_format, **env)
    assert status == 2, output
    assert WRONG not in output
    assert TEST_PASSWORD not in output
    assert "Traceback" not in output
    lines = output.strip().splitlines()
    critical = [line for line in lines if "cannot use PostgreSQL at 127.0.0.1:" in line]
    assert len(critical) == 1, output
    assert words in critical[0]
    if log_format == "json":
        record = json.loads(critical[0])
        assert record["level"] in ("CRITICAL", "critical"), record
