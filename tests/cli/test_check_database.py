"""`woo-bridge check`'s database section: SQLite or PostgreSQL, versions, replicas, leader;
a database it cannot reach is an error in words, never with the password."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import pytest

from bridge.cli import main
from bridge.queue.postgres.schema import MIGRATIONS, migrate
from bridge.queue.schema import MIGRATIONS as SQLITE_MIGRATIONS
from bridge.queue.store import Store
from tests.helpers import free_port
from tests.postgres import TEST_PASSWORD, PostgresServer

TOKEN = "123456:SECRET-TOKEN-VALUE"


@pytest.fixture(autouse=True)
def _valid_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("WOOCOMMERCE_STORE_URL", "https://shop.example.com")
    monkeypatch.setenv("BRIDGE_DATA_DIR", str(tmp_path / "data"))


def findings(out: str) -> list[str]:
    return [
        line
        for line in out.splitlines()
        if "database:" in line or "replicas:" in line or "leader:" in line
    ]


def test_sqlite_before_and_after_the_first_start(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["check"]) == 0
    [line] = findings(capsys.readouterr().out)
    assert line.startswith("ok ")
    assert "SQLite" in line
    assert str(tmp_path / "data" / "bridge.sqlite3") in line
    assert "created at the first start" in line

    async def create() -> None:
        store = await Store.open(tmp_path / "data" / "bridge.sqlite3")
        await store.close()

    asyncio.run(create())
    assert main(["check"]) == 0
    [line] = findings(capsys.readouterr().out)
    known = len(SQLITE_MIGRATIONS)
    assert f"schema {known} of {known} (one replica only)" in line


async def _prepare(url: str, *, leader: str | None, seen_ago: float) -> None:
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        now = time.time()
        for name in ("web-1", "web-2"):
            await conn.execute(
                "INSERT INTO replicas (name, started_at, seen_at) VALUES ($1, $2, $3)",
                name,
                now - 600,
                now - (seen_ago if name == leader else 1),
            )
        if leader:
            await conn.execute(
                "UPDATE leader SET epoch = 3, holder = $1, since = $2", leader, now - 300
            )
    finally:
        await conn.close()


def test_postgresql_empty_then_with_replicas_and_a_leader(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", postgres_url)
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    [line] = findings(out)
    assert f"schema 0 of {len(MIGRATIONS)} (empty, set up at the next start)" in line
    assert "PostgreSQL 1" in line
    assert "127.0.0.1" in line
    assert TEST_PASSWORD not in out
    assert "postgresql://postgres:****@127.0.0.1" in out  # the configuration, masked

    asyncio.run(_prepare(postgres_url, leader="web-2", seen_ago=2))
    assert main(["check"]) == 0
    database, replicas, leader = findings(capsys.readouterr().out)
    assert database.endswith(f"schema {len(MIGRATIONS)}")
    assert replicas.startswith("ok ")
    assert "web-1 seen 1 s ago, web-2 (leader) seen 2 s ago" in replicas
    assert leader.split(None, 1) == ["ok", "leader: web-2 (term 3)"]


def test_a_leader_not_seen_lately_is_a_warning(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", postgres_url)
    asyncio.run(_prepare(postgres_url, leader="web-1", seen_ago=400))
    assert main(["check"]) == 0
    leader = findings(capsys.readouterr().out)[-1]
    assert leader.startswith("warning ")
    assert "leader: web-1 (term 3), last seen 7 min ago; is it running?" in leader


def test_replicas_without_a_leader_is_a_warning(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", postgres_url)
    asyncio.run(_prepare(postgres_url, leader=None, seen_ago=0))
    main(["check"])
    assert findings(capsys.readouterr().out)[-1].startswith("warning  leader: none yet")


@pytest.mark.parametrize("fault", ["wrong password", "no server", "no database"])
def test_a_database_it_cannot_use_is_an_error_in_words(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    postgres_server: PostgresServer,
    postgres_url: str,
    fault: str,
) -> None:
    wrong = "Wrong-PASS-for-check-9z8y"
    url, words = {
        "wrong password": (
            postgres_server.url(postgres_url.rpartition("/")[2], password=wrong),
            "authentication failed",
        ),
        "no server": (
            f"postgresql://postgres:{wrong}@127.0.0.1:{free_port()}/bridge",
            "connection refused",
        ),
        "no database": (
            postgres_server.url("no_such_db", password=wrong).replace(wrong, TEST_PASSWORD),
            "no such database",
        ),
    }[fault]
    monkeypatch.setenv("BRIDGE_DATABASE_URL", url)
    assert main(["check"]) == 2
    out = capsys.readouterr().out
    [line] = findings(out)
    assert line.startswith("error ")
    assert words in line
    assert "cannot use PostgreSQL at 127.0.0.1:" in line
    assert wrong not in out
    assert TEST_PASSWORD not in out
