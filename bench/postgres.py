"""PostgreSQL for the benchmarks: a throwaway durable cluster, or a server given by URL.

`--postgres` starts a cluster of its own in a temporary directory the way the tests do
(tests/postgres.py: the machine's server programs, as the `postgres` user under root), but
durable: fsync, synchronous_commit and full_page_writes on, as in production, so that an
acknowledged delivery is on disk. `--database-url` takes a superuser's URL to a server of
yours instead. Either way the benchmark works in a fresh database it drops at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from tests.postgres import start_cluster

#: production's durability; the rest sized for a small shared machine
DURABLE = (
    "-c fsync=on -c synchronous_commit=on -c full_page_writes=on "
    "-c max_connections=200 -c shared_buffers=128MB"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--postgres and --database-url (the bridge keeps its queue in SQLite without them)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--postgres",
        action="store_true",
        help="keep the bridge's data in a throwaway PostgreSQL cluster (fsync on)",
    )
    group.add_argument(
        "--database-url",
        help="a superuser's URL to a PostgreSQL server; a database is created there and dropped",
    )


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


async def _admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def fetchval(url: str, query: str, *args: Any) -> Any:
    """One value from the database at `url`."""
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


@contextlib.contextmanager
def _server(admin_url: str | None) -> Iterator[str]:
    if admin_url:
        yield admin_url
        return
    root = Path(tempfile.mkdtemp(prefix="woo-bench-pg-"))
    root.chmod(0o755)  # the `postgres` user must reach its data directory
    try:
        server = start_cluster(root, DURABLE)
        try:
            yield server.admin_url
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):
                server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def database(args: argparse.Namespace) -> Iterator[str | None]:
    """The URL of a fresh database for the bridge, or None for SQLite (neither option)."""
    if not (args.postgres or args.database_url):
        yield None
        return
    with _server(args.database_url) as admin:
        name = "woo_bench"
        asyncio.run(_admin(admin, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"))
        try:
            yield _with_database(admin, name)
        finally:
            asyncio.run(_admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def describe(url: str | None) -> str:
    """One line naming the bridge's database, for the figures' heading."""
    if url is None:
        return "SQLite (WAL, synchronous=FULL for intake)"
    version = asyncio.run(fetchval(url, "SHOW server_version"))
    settings = {
        name: asyncio.run(fetchval(url, f"SHOW {name}"))
        for name in ("fsync", "synchronous_commit", "full_page_writes")
    }
    shown = ", ".join(f"{name}={value}" for name, value in settings.items())
    return f"PostgreSQL {version} on this machine ({shown})"


def committed_events(url: str) -> int:
    """The events the bridge has committed in the database at `url`."""
    return int(asyncio.run(fetchval(url, "SELECT count(*) FROM events")))


def _stat(pid: int | str) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def server_cpu_seconds(url: str) -> float | None:
    """CPU time the PostgreSQL server on this machine at `url`'s port has used so far: the
    postmaster, its exited children (reaped into its own counters) and the live ones.
    None if no such server runs here (a remote one)."""
    port = str(urlsplit(url).port or 5432)
    postmaster = None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        is_server = Path(argv[0].decode(errors="replace")).name == "postgres"
        if is_server and b"-p" in argv and argv[argv.index(b"-p") + 1].decode() == port:
            postmaster = entry.name
            break
    if postmaster is None:
        return None
    ticks = 0
    with contextlib.suppress(OSError):
        fields = _stat(postmaster)
        ticks += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or entry.name == postmaster:
            continue
        with contextlib.suppress(OSError):
            fields = _stat(entry.name)
            if fields[1] == postmaster:  # the parent's pid
                ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")
