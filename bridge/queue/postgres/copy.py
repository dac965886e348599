"""A SQLite queue copied into PostgreSQL, row for row, in one transaction.

PostgreSQL's schema (migration 2) keeps SQLite's tables, columns and state names, so every
table is copied whole with its ids: a chat's pending messages stay in the same order, dead
letters keep the ids `woo-bridge replay` names, and the routing memory (resource states,
order states, stock levels, digests, the orders ledger, watermarks) goes along, so that
nothing is announced twice. Each identity then restarts past the largest id SQLite ever
handed out (its AUTOINCREMENT counter, which survives pruning), so ids are never reused.

SQLite is read in one read transaction (a consistent snapshot); PostgreSQL is written with
COPY in one transaction: the target holds all of it or none. Messages SQLite had in flight
are copied as pending, as a restarted bridge would requeue them. `health` is not copied:
each database proves its own liveness.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bridge.queue.postgres.schema import migrate
from bridge.queue.schema import MIGRATIONS as SQLITE_MIGRATIONS

#: parents before children (foreign keys); every table of the queue but `health`
TABLES = (
    "events",
    "resource_states",
    "messages",
    "digest_items",
    "order_statuses",
    "stock_levels",
    "orders_ledger",
    "summaries_sent",
    "mutes",
    "chat_aliases",
    "failed_chats",
    "reconcile_watermarks",
    "order_actions",
    "order_cards",
    "telegram_updates",
)
#: the tables whose ids are PostgreSQL identities (SQLite AUTOINCREMENT)
IDENTITIES = ("events", "messages", "digest_items", "order_actions")

# PostgreSQL
COLUMNS = (
    "SELECT column_name, data_type FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
)
IS_EMPTY = "SELECT NOT EXISTS (SELECT 1 FROM {table})"
EMPTY_ALL = "TRUNCATE " + ", ".join(TABLES) + " RESTART IDENTITY"
RESTART_IDENTITY = "SELECT setval(pg_get_serial_sequence($1, 'id'), $2, $3)"
# SQLite
SQLITE_VERSION = "PRAGMA user_version"
SQLITE_COLUMNS = "SELECT name FROM pragma_table_info(?)"
SQLITE_ROWS = "SELECT {columns} FROM {table} ORDER BY rowid"
SQLITE_COUNTERS = "SELECT name, seq FROM sqlite_sequence"
SQLITE_BEGIN = "BEGIN"
SQLITE_END = "COMMIT"

#: how SQLite's loosely typed values become the PostgreSQL column's type
_CONVERT: dict[str, Callable[[Any], Any]] = {
    "boolean": bool,
    "bytea": lambda v: v.encode() if isinstance(v, str) else bytes(v),
    "bigint": int,
    "integer": int,
    "double precision": float,
    "text": str,
}


class CopyRefused(Exception):
    """The copy cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class SqliteQueue:
    """Every row of a SQLite queue, read in one snapshot."""

    rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]]
    #: the largest id each AUTOINCREMENT table ever handed out
    counters: dict[str, int]


def read_sqlite(path: Path) -> SqliteQueue:
    """Read the queue at `path` read-only. Raises CopyRefused or sqlite3.Error."""
    if not path.is_file():
        raise CopyRefused(f"no SQLite queue at {path}: give the path of bridge.sqlite3")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        version = conn.execute(SQLITE_VERSION).fetchone()[0]
        if version != len(SQLITE_MIGRATIONS):
            raise CopyRefused(
                f"{path} has schema {version}, this bridge's is {len(SQLITE_MIGRATIONS)}: "
                "copy it with the bridge version that last served it"
            )
        conn.execute(SQLITE_BEGIN)  # one snapshot for every table
        rows = {}
        for table in TABLES:
            columns = [r[0] for r in conn.execute(SQLITE_COLUMNS, (table,))]
            listed = ", ".join(f'"{c}"' for c in columns)
            query = SQLITE_ROWS.format(columns=listed, table=table)
            rows[table] = (columns, conn.execute(query).fetchall())
        counters = {name: int(seq) for name, seq in conn.execute(SQLITE_COUNTERS)}
        conn.execute(SQLITE_END)
        return SqliteQueue(rows, counters)
    finally:
        conn.close()


async def copy_into(
    conn: asyncpg.Connection, queue: SqliteQueue, *, replace: bool = False
) -> dict[str, int]:
    """Write `queue` into the database of `conn` (migrated first), in one transaction;
    returns the rows copied per table. Raises CopyRefused if the target holds a queue
    already, unless `replace` (which empties it first)."""
    await migrate(conn)
    counts: dict[str, int] = {}
    async with conn.transaction():
        if replace:
            await conn.execute(EMPTY_ALL)
        else:
            full = [t for t in TABLES if not await conn.fetchval(IS_EMPTY.format(table=t))]
            if full:
                raise CopyRefused(
                    f"the PostgreSQL database already holds a queue (rows in {', '.join(full)}); "
                    "copy into an empty database, or pass --replace to empty it first"
                )
        for table in TABLES:
            columns, rows = queue.rows[table]
            counts[table] = await _copy_table(conn, table, columns, rows)
        for table in IDENTITIES:
            highest = max(queue.counters.get(table, 0), _largest_id(queue, table))
            await conn.fetchval(RESTART_IDENTITY, table, max(highest, 1), highest > 0)
    return counts


async def _copy_table(
    conn: asyncpg.Connection, table: str, columns: list[str], rows: list[tuple[Any, ...]]
) -> int:
    types = {r["column_name"]: r["data_type"] for r in await conn.fetch(COLUMNS, table)}
    missing = [c for c in columns if c not in types]
    if missing:
        raise CopyRefused(
            f"PostgreSQL's {table} has no column {', '.join(missing)}: the two schemas differ; "
            "use the same bridge version for both"
        )
    converters = [_CONVERT.get(types[c], lambda v: v) for c in columns]
    status = columns.index("status") if table == "messages" else -1
    records = []
    for row in rows:
        values = [None if v is None else f(v) for f, v in zip(converters, row, strict=True)]
        if status >= 0 and values[status] == "sending":
            values[status] = "pending"  # in flight when SQLite stopped: sent again
        records.append(tuple(values))
    if records:
        await conn.copy_records_to_table(table, records=records, columns=columns)
    return len(records)


def _largest_id(queue: SqliteQueue, table: str) -> int:
    columns, rows = queue.rows[table]
    at = columns.index("id")
    return max((int(row[at]) for row in rows), default=0)
