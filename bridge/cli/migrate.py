"""`woo-bridge migrate --from-sqlite PATH`: a SQLite queue moved into PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from pathlib import Path

import asyncpg

from bridge.cli.common import EXIT_CONFIG
from bridge.config import ConfigError, load_storage_settings
from bridge.queue.postgres import dsn, failure
from bridge.queue.postgres.copy import CopyRefused, copy_into, read_sqlite
from bridge.queue.store import Store, StoreError

NAME = "migrate"
HELP = "copy a SQLite queue into the PostgreSQL database of BRIDGE_DATABASE_URL"
DESCRIPTION = """Copy a SQLite queue (BRIDGE_DATA_DIR/bridge.sqlite3) into the PostgreSQL
database of BRIDGE_DATABASE_URL, for a shop that moves to several replicas.

Everything the queue keeps goes along, with its ids: events, pending messages (in
their order), dead letters, mutes, order states, stock levels, digests, the orders
ledger, the gap filling's watermarks. Stop the bridge first. The copy is one
transaction: the database holds all of it or nothing. It refuses a database that
already holds a queue unless --replace is given, and prints the rows copied per
table. The SQLite file is only read (brought to this version's schema first)."""
EPILOG = """\
examples:
  woo-bridge migrate --from-sqlite /data/bridge.sqlite3
  BRIDGE_DATABASE_URL=postgresql://bridge@db:5432/bridge \\
    BRIDGE_DATABASE_PASSWORD_FILE=/run/secrets/postgres_password \\
    woo-bridge migrate --from-sqlite data/bridge.sqlite3
  woo-bridge migrate --from-sqlite data/bridge.sqlite3 --replace
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from-sqlite",
        metavar="PATH",
        type=Path,
        required=True,
        help="the SQLite queue to copy (bridge.sqlite3 in the old BRIDGE_DATA_DIR)",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="empty the PostgreSQL database's queue first (it is refused otherwise)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        url = load_storage_settings().database_url
    except ConfigError as exc:
        print("woo-bridge cannot copy the queue; fix these settings:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_CONFIG
    if url is None:
        print(
            "woo-bridge: set BRIDGE_DATABASE_URL to the PostgreSQL database to copy into, e.g. "
            f"{dsn.EXAMPLE}",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    path: Path = args.from_sqlite
    return asyncio.run(_migrate(path, url, exists=path.is_file(), replace=args.replace))


async def _migrate(path: Path, url: str, *, exists: bool, replace: bool) -> int:
    target = dsn.target(url)
    try:
        if exists:
            # Brought to this version's schema, as `serve` would on start.
            await (await Store.open(path)).close()
        queue = read_sqlite(path)
    except CopyRefused as exc:
        print(f"woo-bridge: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (StoreError, sqlite3.Error) as exc:
        print(f"woo-bridge: cannot read {path} ({type(exc).__name__}: {exc})", file=sys.stderr)
        return EXIT_CONFIG
    try:
        conn = await asyncpg.connect(url, timeout=30)
    except Exception as exc:  # every failure in words, never asyncpg's own text
        print(f"woo-bridge: {failure.explain(exc, url)}", file=sys.stderr)
        return 1
    try:
        counts = await copy_into(conn, queue, replace=replace)
    except CopyRefused as exc:
        print(f"woo-bridge: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except Exception as exc:
        print(f"woo-bridge: nothing copied: {failure.explain(exc, url)}", file=sys.stderr)
        return 1
    finally:
        await conn.close()
    print(f"copied {path} into PostgreSQL at {target}, in one transaction:")
    width = max(len(table) for table in counts)
    for table, count in counts.items():
        print(f"  {table:<{width}}  {count}")
    columns, rows = queue.rows["messages"]
    status = columns.index("status")
    pending = sum(row[status] in ("pending", "sending") for row in rows)
    dead = sum(row[status] == "dead" for row in rows)
    print(f"{pending} message(s) to send, {dead} dead letter(s).")
    print(
        "Start the bridge with BRIDGE_DATABASE_URL set; keep the SQLite file until it has "
        "sent what was pending."
    )
    return 0
