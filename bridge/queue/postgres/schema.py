"""The PostgreSQL schema, as numbered migrations applied in order (tracked in schema_version).

Append a migration to change the schema; never edit one that has shipped. Replicas that
start together serialise on a transaction-level advisory lock taken as the first statement
of the migration transaction: one applies what is missing, the others then find nothing
to do. Under READ COMMITTED each statement sees the latest commit, so the version read
after the lock wait is the winner's (REPEATABLE READ would re-apply migrations).
"""

from __future__ import annotations

import asyncpg

#: hashtextextended('woo-telegram-bridge:migrate', 0) is computed by the server
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('woo-telegram-bridge:migrate', 0))"


class SchemaTooNew(Exception):
    """The database was migrated by a newer bridge than this one."""


MIGRATIONS: tuple[str, ...] = (
    # 1: leadership and the replicas that share this database.
    """
    -- The leader's term: bumped by each new leader, stamped on the messages it claims, so
    -- that the next leader knows which sends were in flight under an earlier term.
    CREATE TABLE leader (
        id          integer PRIMARY KEY CHECK (id = 1),
        epoch       bigint NOT NULL,
        holder      text,                 -- the replica's name
        since       double precision      -- epoch seconds
    );
    INSERT INTO leader VALUES (1, 0, NULL, NULL);
    -- Every replica's heartbeat: /status and /metrics show the replicas seen lately.
    CREATE TABLE replicas (
        name        text PRIMARY KEY,
        started_at  double precision NOT NULL,
        seen_at     double precision NOT NULL
    );
    """,
)


async def migrate(conn: asyncpg.Connection) -> int:
    """Bring the schema up to date; returns the version. Raises SchemaTooNew."""
    async with conn.transaction():
        await conn.execute(_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version integer PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        current = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version")
        if current > len(MIGRATIONS):
            raise SchemaTooNew(
                f"the database's schema is version {current}, newer than this bridge knows "
                f"({len(MIGRATIONS)}): run the newer bridge, or a database of this one's own"
            )
        for version in range(current + 1, len(MIGRATIONS) + 1):
            await conn.execute(MIGRATIONS[version - 1])
            await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version)
        return len(MIGRATIONS)
