"""Schema migrations on PostgreSQL, when several replicas start at once."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bridge.queue.postgres.schema import MIGRATIONS, SchemaTooNew, migrate


async def test_replicas_starting_together_migrate_once(postgres_url: str) -> None:
    conns = [await asyncpg.connect(postgres_url) for _ in range(6)]
    try:
        versions = await asyncio.gather(*(migrate(conn) for conn in conns))
        assert versions == [len(MIGRATIONS)] * 6
        applied = await conns[0].fetch("SELECT version FROM schema_version ORDER BY version")
        assert [row["version"] for row in applied] == list(range(1, len(MIGRATIONS) + 1))
        # Migrating again finds nothing to do.
        assert await migrate(conns[0]) == len(MIGRATIONS)
        assert await conns[0].fetchval("SELECT count(*) FROM schema_version") == len(MIGRATIONS)
    finally:
        for conn in conns:
            await conn.close()


async def test_a_schema_newer_than_the_bridge_is_refused(postgres_url: str) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        await migrate(conn)
        await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", len(MIGRATIONS) + 1)
        with pytest.raises(SchemaTooNew, match="newer than this bridge knows"):
            await migrate(conn)
    finally:
        await conn.close()
