"""What `woo-bridge check` reads of a SQLite queue, opened read-only: nothing is created,
migrated or locked for writing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bridge.queue.schema import MIGRATIONS

SCHEMA_VERSION = "PRAGMA user_version"


def schema_version(path: Path) -> int:
    """The schema version of the file at `path`. Raises sqlite3.Error or OSError."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return int(conn.execute(SCHEMA_VERSION).fetchone()[0])
    finally:
        conn.close()


def known_version() -> int:
    """The schema version this bridge brings a file to."""
    return len(MIGRATIONS)
