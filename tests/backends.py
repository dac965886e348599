"""Both storage backends behind one fixture, so that store-level tests run on each.

`backend` is parametrised: `sqlite` (a file in the test's tmp dir) and `postgres` (a
database of the test's own on the real server of tests/postgres.py, asked for only then,
so that SQLite runs need no server). `store` is an opened Storage on it, closed after.
`backend.sql(...)` reaches the rows beneath the interface (to age them, or to look), with
PostgreSQL's $n parameters on both.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bridge.clock import Clock
from bridge.queue.postgres.store import PgStore
from bridge.queue.storage import Storage
from bridge.queue.store import Store
from tests.fakes.clock import ShiftedClock

BACKENDS = ("sqlite", "postgres")


@dataclass
class Backend:
    """Where a test's store lives, and a way to the rows beneath it."""

    name: str
    path: Path
    url: str = ""

    async def open(self, clock: Clock | None = None) -> Storage:
        if self.name == "postgres":
            if clock is None:
                return await PgStore.open(self.url, pool_size=4)
            return await PgStore.open(self.url, clock=clock, pool_size=4)
        if clock is None:
            return await Store.open(self.path)
        return await Store.open(self.path, clock=clock)

    async def sql(self, statement: str, *args: Any) -> list[tuple[Any, ...]]:
        """Run one statement outside the store; returns its rows."""
        if self.name == "postgres":
            conn = await asyncpg.connect(self.url)
            try:
                return [tuple(row) for row in await conn.fetch(statement, *args)]
            finally:
                await conn.close()
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            return db.execute(re.sub(r"\$\d+", "?", statement), args).fetchall()
        finally:
            db.close()

    async def new_term(self, store: Storage) -> None:
        """What a new leader does before it sends (PostgreSQL): a term of its own."""
        if isinstance(store, PgStore):
            [(epoch,)] = await self.sql(
                "UPDATE leader SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch"
            )
            store.epoch = epoch


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "postgres":
        return Backend("postgres", tmp_path, request.getfixturevalue("postgres_url"))
    return Backend("sqlite", tmp_path / "bridge.sqlite3")


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
async def store(backend: Backend, clock: ShiftedClock) -> AsyncIterator[Storage]:
    opened = await backend.open(clock)
    yield opened
    await opened.close()
