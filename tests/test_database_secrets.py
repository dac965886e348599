"""The database password never leaves the process: the real `woo-bridge serve` on PostgreSQL
loses its database while running (its role may no longer log in, every session is ended),
so that the store, the leader and the listener all fail and retry, and intake answers 503;
the whole log, in both formats, and every answer are searched for the password in any form.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from tests.fakes.deliveries import delivery_headers
from tests.fakes.telegram import FakeTelegram
from tests.helpers import CHAT_ID, free_port, numbered_order
from tests.postgres import PostgresServer

TOKEN = "55123:AAH-db-secrets-TOKEN-3321"
SECRET = "wh-db-secrets-SECRET-77"
PASSWORD = "Rt-p@ss:w/rd%Zz91-secret"


def _forms(password: str) -> list[str]:
    return [password, quote(password, safe=""), quote(password)]


async def _admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.mark.parametrize("log_format", ["plain", "json"])
async def test_no_database_password_in_any_log_line_or_answer_when_the_database_goes_away(
    log_format: str,
    tmp_path: Path,
    aiohttp_server: Any,
    postgres_server: PostgresServer,
    postgres_url: str,
) -> None:
    dbname = postgres_url.rpartition("/")[2]
    role = f"bridge_{dbname[-12:]}_{log_format}"
    await _admin(
        postgres_server.admin_url,
        f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'",
        f'ALTER DATABASE "{dbname}" OWNER TO {role}',
    )
    fake = FakeTelegram(token=TOKEN)
    telegram: TestServer = await aiohttp_server(fake.app())
    parts = urlsplit(postgres_url)
    url = f"postgresql://{role}@{parts.hostname}:{parts.port}/{dbname}"
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": str(telegram.make_url("")).rstrip("/"),
        "TELEGRAM_CHAT_ID": str(CHAT_ID),
        "WOOCOMMERCE_WEBHOOK_SECRET": SECRET,
        "BRIDGE_SECRETS_DIR": "/nonexistent",
        "BRIDGE_DATA_DIR": str(tmp_path / "data"),
        "BRIDGE_HOST": "127.0.0.1",
        "BRIDGE_PORT": str(port),
        "BRIDGE_LOG_LEVEL": "DEBUG",
        "BRIDGE_LOG_FORMAT": log_format,
        "BRIDGE_LEADER_POLL_SECONDS": "0.2",
        "BRIDGE_LEADER_HEARTBEAT_SECONDS": "0.2",
        "BRIDGE_LEADER_TIMEOUT_SECONDS": "0.5",
    }
    if log_format == "plain":
        env["BRIDGE_DATABASE_URL"] = url.replace(f"{role}@", f"{role}:{quote(PASSWORD, safe='')}@")
    else:
        (tmp_path / "password").write_text(PASSWORD + "\n")
        env["BRIDGE_DATABASE_URL"] = url
        env["BRIDGE_DATABASE_PASSWORD_FILE"] = str(tmp_path / "password")
    log = tmp_path / "bridge.log"
    answers: list[str] = []
    statuses: list[int] = []
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bridge", "serve"], env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:

            async def get(path: str) -> int:
                async with http.get(base + path) as response:
                    answers.append(await response.text())
                    return response.status

            async def deliver(number: int) -> int:
                body = numbered_order(number)
                headers = delivery_headers("order.created", body, SECRET)
                async with http.post(base + "/webhook", data=body, headers=headers) as response:
                    answers.append(await response.text())
                    return response.status

            async with asyncio.timeout(30):
                while True:
                    assert process.poll() is None, log.read_text()
                    try:
                        if await get("/readyz") == 200:
                            break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.1)
                statuses.append(await deliver(1))
                await fake.wait_for_messages(1)
                # The role may no longer log in, and every session it has is ended.
                await _admin(
                    postgres_server.admin_url,
                    f"ALTER ROLE {role} NOLOGIN",
                    f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'",  # noqa: S608, E501 - the test's own role
                )
                while await get("/readyz") != 503:
                    await asyncio.sleep(0.1)
                statuses.append(await deliver(2))
                for path in ("/healthz", "/metrics"):
                    await get(path)
                await asyncio.sleep(1.5)  # reconnection attempts, each refused and logged
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(20):
                while process.poll() is None:
                    await asyncio.sleep(0.05)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        await _admin(postgres_server.admin_url, f'ALTER DATABASE "{dbname}" OWNER TO postgres')
        await _admin(
            postgres_server.url(dbname),
            f"REASSIGN OWNED BY {role} TO postgres",
            f"DROP OWNED BY {role}",
        )
        await _admin(postgres_server.admin_url, f"DROP ROLE {role}")
    assert statuses == [200, 503]
    text = log.read_text()
    said = text + "\n".join(answers)
    for form in _forms(PASSWORD):
        assert form not in said, form
    # The fault did show: every part of the bridge said the database refused it.
    assert "not permitted to log in" in text
