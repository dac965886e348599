"""`woo-bridge migrate --from-sqlite`: a SQLite queue filled through the Storage API, copied
into a real PostgreSQL database, row for row, ids and order kept, in one transaction."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bridge.cli import main
from bridge.queue.models import (
    EventState,
    IncomingEvent,
    LedgerRow,
    MuteRecord,
    OrderAction,
    OrderState,
    OutgoingMessage,
    Routing,
)
from bridge.queue.postgres.copy import TABLES
from bridge.queue.store import Store
from bridge.webhook.intake import body_key
from tests.postgres import TEST_PASSWORD


def _event(n: int) -> IncomingEvent:
    body = b'{"id":%d,"bytes":"\xc3\xa9\x00"}' % n
    return IncomingEvent(
        "default", "order.updated", body, body_key("default", "order.updated", body), 1000.0 + n
    )


async def _fill(path: Path) -> None:
    """A queue with something in every state the bridge keeps."""
    store = await Store.open(path)
    try:
        for n in range(1, 13):
            accepted = await store.accept(_event(n))
            messages = tuple(
                OutgoingMessage(
                    chat_id=chat,
                    topic="order.updated",
                    text=f"#{n} to {chat}",
                    silent=n % 2 == 0,
                    thread_id=7 if chat == -300 else None,
                )
                for chat in (-100, -200, -300)
            )
            state = OrderState("default", str(n), "processing", f"2026-01-0{n % 9 + 1}")
            await store.commit_routing(
                Routing(
                    accepted.event_id,
                    EventState.ROUTED,
                    messages,
                    state_key=f"order:{n}",
                    order_state=state,
                ),
                now=1000.0 + n,
            )
        now = time.time()
        claimed = await store.claim(now, limit=10)
        chats = {m.chat_id: m for m in claimed}
        await store.mark_sent(chats[-100].id, now, telegram_id=555)
        await store.mark_dead(chats[-200].id, "Forbidden: bot was kicked", now)
        # chats[-300] stays in flight: SQLite was stopped mid-send
        await store.save_mute(MuteRecord(-100, None, "product.*", None, 42))
        await store.save_mute(MuteRecord(-300, 7, "order.*", now + 3600, 42))
        await store.save_watermark("default", "2026-01-05T10:00:00")
        await store.record_chat_move(-400, -1000400)
        await store.record_ledger(
            LedgerRow(
                "default",
                "1",
                "processing",
                "VND",
                "1234.50",
                "0",
                (("Hoodie", 2, "1234.50"),),
                "c1",
                1001.0,
                "2026-01-01",
            )
        )
        await store.record_order_action(
            OrderAction(
                "default", "1", 42, "Lan", -100, "status", "processing", "completed", "done", now
            )
        )
        await store.record_failed_chat(-500, "Forbidden", now)
        # Pruning leaves a hole: the next id must still not reuse the largest ever given.
        accepted = await store.accept(_event(99))
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM events WHERE id = ?", (accepted.event_id,))
    conn.commit()
    conn.close()


def _sqlite_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        query = f"SELECT * FROM {table} ORDER BY rowid"  # noqa: S608 - names from TABLES
        rows = conn.execute(query).fetchall()
        return [_plain(dict(zip(columns, row, strict=True))) for row in rows]
    finally:
        conn.close()


def _plain(row: dict[str, Any]) -> tuple[Any, ...]:
    """A row as comparable values: booleans as 0/1, ids and times as numbers."""
    return tuple(
        int(v) if isinstance(v, bool) else v for k, v in sorted(row.items()) if k != "claimed_epoch"
    )


async def _pg_rows(url: str, table: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(url)
    try:
        query = f"SELECT * FROM {table}"  # noqa: S608 - names from TABLES
        return [_plain(dict(r)) for r in await conn.fetch(query)]
    finally:
        await conn.close()


def _migrate(monkeypatch: pytest.MonkeyPatch, url: str, *argv: str) -> int:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", url)
    return main(["migrate", *argv])


def test_every_table_is_copied_row_for_row_with_its_ids(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    postgres_url: str,
) -> None:
    path = tmp_path / "bridge.sqlite3"
    asyncio.run(_fill(path))
    assert _migrate(monkeypatch, postgres_url, "--from-sqlite", str(path)) == 0
    out = capsys.readouterr().out
    assert TEST_PASSWORD not in out
    assert "in one transaction" in out
    for table in TABLES:
        expected = _sqlite_rows(path, table)
        if table == "messages":  # the one in flight is pending again
            status = sorted(_sqlite_columns(path, table)).index("status")
            expected = [
                (*r[:status], "pending" if r[status] == "sending" else r[status], *r[status + 1 :])
                for r in expected
            ]
        assert sorted(asyncio.run(_pg_rows(postgres_url, table)), key=repr) == sorted(
            expected, key=repr
        ), table
        assert f"  {table:<20}"[: len(table) + 2] in out
    assert "  messages              36" in out
    assert "  events                12" in out
    assert "34 message(s) to send, 1 dead letter(s)." in out


def _sqlite_columns(path: Path, table: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()


async def _pg_queue(url: str) -> tuple[list[tuple[int, int, str]], int, list[Any]]:
    conn = await asyncpg.connect(url)
    try:
        open_messages = [
            (r["chat_id"], r["id"], r["status"])
            for r in await conn.fetch(
                "SELECT chat_id, id, status FROM messages WHERE status IN ('pending', 'sending')"
                " ORDER BY chat_id, id"
            )
        ]
        next_event = await conn.fetchval(
            "INSERT INTO events (store, topic, body_key, body, received_at)"
            " VALUES ('default', 'order.created', 'new', '\\x00', 1) RETURNING id"
        )
        dead = await conn.fetch("SELECT id, last_error FROM messages WHERE status = 'dead'")
        return open_messages, next_event, [tuple(r) for r in dead]
    finally:
        await conn.close()


def test_pending_messages_keep_their_order_and_ids_are_never_reused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, postgres_url: str
) -> None:
    path = tmp_path / "bridge.sqlite3"
    asyncio.run(_fill(path))
    assert _migrate(monkeypatch, postgres_url, "--from-sqlite", str(path)) == 0
    open_messages, next_event, dead = asyncio.run(_pg_queue(postgres_url))
    for chat in (-100, -200, -300):
        ids = [i for c, i, _ in open_messages if c == chat]
        assert ids == sorted(ids)
        assert len(ids) == 11 if chat != -300 else 12
    assert {s for _, _, s in open_messages} == {"pending"}
    assert next_event == 14  # 13 was given (then deleted) in SQLite
    assert [error for _, error in dead] == ["Forbidden: bot was kicked"]


def test_a_database_holding_a_queue_is_refused_unless_replace(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    postgres_url: str,
) -> None:
    path = tmp_path / "bridge.sqlite3"
    asyncio.run(_fill(path))
    assert _migrate(monkeypatch, postgres_url, "--from-sqlite", str(path)) == 0
    capsys.readouterr()
    assert _migrate(monkeypatch, postgres_url, "--from-sqlite", str(path)) == 2
    err = capsys.readouterr().err
    assert "already holds a queue (rows in events, resource_states, messages" in err
    assert "--replace" in err
    assert _migrate(monkeypatch, postgres_url, "--from-sqlite", str(path), "--replace") == 0
    assert len(asyncio.run(_pg_rows(postgres_url, "messages"))) == 36


def test_a_failure_halfway_copies_nothing(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    postgres_url: str,
) -> None:
    path = tmp_path / "bridge.sqlite3"
    asyncio.run(_fill(path))
    # A message whose event is gone: PostgreSQL's foreign key refuses it, after the events.
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO messages (event_id, chat_id, topic, text, run_at, created_at, updated_at)"
        " VALUES (9999, -100, 'order.created', 'orphan', 1, 1, 1)"
    )
    conn.commit()
    conn.close()
    assert _migrate(monkeypatch, postgres_url, "--from-sqlite", str(path)) == 1
    err = capsys.readouterr().err
    assert err.startswith("woo-bridge: nothing copied: cannot use PostgreSQL at 127.0.0.1:")
    assert TEST_PASSWORD not in err
    assert asyncio.run(_pg_rows(postgres_url, "events")) == []


def test_without_a_database_url_or_a_queue_it_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    postgres_url: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["migrate", "--from-sqlite", str(tmp_path / "bridge.sqlite3")]) == 2
    assert "set BRIDGE_DATABASE_URL" in capsys.readouterr().err
    missing = tmp_path / "nowhere" / "bridge.sqlite3"
    assert _migrate(monkeypatch, postgres_url, "--from-sqlite", str(missing)) == 2
    assert f"no SQLite queue at {missing}" in capsys.readouterr().err
    assert not missing.parent.exists()


def test_the_commands_on_the_queue_read_postgresql_once_the_url_is_set(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    postgres_url: str,
) -> None:
    path = tmp_path / "bridge.sqlite3"
    asyncio.run(_fill(path))
    assert _migrate(monkeypatch, postgres_url, "--from-sqlite", str(path)) == 0
    capsys.readouterr()
    monkeypatch.setenv("BRIDGE_DATA_DIR", str(tmp_path / "elsewhere"))  # no SQLite there
    assert main(["dead-letters"]) == 0
    out = capsys.readouterr().out
    assert "Forbidden: bot was kicked" in out
    assert main(["replay", "--all"]) == 0
    capsys.readouterr()
    assert main(["dead-letters"]) == 0
    assert "Forbidden: bot was kicked" not in capsys.readouterr().out
    assert not (tmp_path / "elsewhere").exists()
