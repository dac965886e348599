"""What `woo-bridge check` reads of a PostgreSQL database, without changing anything: the
server's version, the schema's, the leader and the replicas seen.

A connection of its own, not the store's pool: `check` runs beside the replicas and must
not migrate, lead or heartbeat.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from bridge.queue.postgres.schema import MIGRATIONS

SERVER_VERSION = "SHOW server_version"
HAS_TABLE = "SELECT to_regclass($1) IS NOT NULL"
SCHEMA_VERSION = "SELECT coalesce(max(version), 0) FROM schema_version"
LEADER = "SELECT epoch, holder, since FROM leader WHERE id = 1"
REPLICAS = "SELECT name, started_at, seen_at FROM replicas ORDER BY name"


@dataclass(frozen=True)
class ReplicaSeen:
    name: str
    started_at: float
    seen_at: float


@dataclass(frozen=True)
class DatabaseState:
    """The database as `check` reports it. Schema 0: the bridge never ran on it."""

    server_version: str
    schema_version: int
    known_version: int
    epoch: int = 0
    leader: str | None = None
    leader_since: float | None = None
    replicas: tuple[ReplicaSeen, ...] = ()


async def inspect(url: str, *, timeout: float = 10.0) -> DatabaseState:
    """Read the database's state. Raises what asyncpg raises (see failure.explain)."""
    conn = await asyncpg.connect(url, timeout=timeout)
    try:
        version = str(await conn.fetchval(SERVER_VERSION))
        schema = 0
        if await conn.fetchval(HAS_TABLE, "schema_version"):
            schema = int(await conn.fetchval(SCHEMA_VERSION))
        state = DatabaseState(version, schema, len(MIGRATIONS))
        if not await conn.fetchval(HAS_TABLE, "leader"):
            return state
        row = await conn.fetchrow(LEADER)
        replicas = tuple(
            ReplicaSeen(r["name"], float(r["started_at"]), float(r["seen_at"]))
            for r in await conn.fetch(REPLICAS)
        )
        return DatabaseState(
            version,
            schema,
            len(MIGRATIONS),
            epoch=int(row["epoch"]) if row else 0,
            leader=row["holder"] if row else None,
            leader_since=row["since"] if row else None,
            replicas=replicas,
        )
    finally:
        await conn.close()
