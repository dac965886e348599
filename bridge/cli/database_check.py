"""`woo-bridge check`'s database section: which backend, its versions, who leads.

SQLite is read-only here (a file not created yet is fine: `serve` creates it). PostgreSQL
is asked over a connection of its own; a failure is a status word and what to do, never
asyncpg's text, which may carry the user or parts of the URL.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time

from bridge.config import ConfigError, StorageSettings
from bridge.queue import sqlite_facts
from bridge.queue.postgres import dsn, failure
from bridge.queue.postgres.inspect import DatabaseState, inspect
from bridge.setup_check.findings import Finding, Level

#: a leader not seen for this long has probably stopped (heartbeats come every few seconds)
STALE_SECONDS = 30.0


def database_findings(settings: StorageSettings, *, now: float | None = None) -> list[Finding]:
    """What `check` says of the queue's database."""
    try:
        url = settings.database_url
    except ConfigError as exc:
        return [Finding(Level.ERROR, problem) for problem in exc.problems]
    if url is None:
        return _sqlite(settings)
    try:
        state = asyncio.run(inspect(url))
    except Exception as exc:  # every failure becomes words, never asyncpg's own text
        return [Finding(Level.ERROR, f"database: {failure.explain(exc, url)}")]
    return _postgres(url, state, time.time() if now is None else now)


def _sqlite(settings: StorageSettings) -> list[Finding]:
    path = settings.database_path
    known = sqlite_facts.known_version()
    where = f"database: SQLite {sqlite3.sqlite_version} at {path}"
    if not path.exists():
        return [Finding(Level.OK, f"{where}, created at the first start (one replica only)")]
    try:
        version = sqlite_facts.schema_version(path)
    except (sqlite3.Error, OSError) as exc:
        return [
            Finding(
                Level.ERROR,
                f"{where} cannot be read ({type(exc).__name__}); check BRIDGE_DATA_DIR and "
                "the file's owner",
            )
        ]
    if version > known:
        return [
            Finding(
                Level.ERROR,
                f"{where}: schema {version} is newer than this bridge knows ({known}); run the "
                "newer bridge",
            )
        ]
    return [Finding(Level.OK, f"{where}, schema {version} of {known} (one replica only)")]


def _postgres(url: str, state: DatabaseState, now: float) -> list[Finding]:
    where = f"database: PostgreSQL {state.server_version} at {dsn.target(url)}"
    if state.schema_version > state.known_version:
        return [
            Finding(
                Level.ERROR,
                f"{where}: schema {state.schema_version} is newer than this bridge knows "
                f"({state.known_version}); run the newer bridge",
            )
        ]
    if state.schema_version < state.known_version:
        upgrade = "empty, set up" if state.schema_version == 0 else "migrated"
        findings = [
            Finding(
                Level.OK,
                f"{where}, schema {state.schema_version} of {state.known_version} "
                f"({upgrade} at the next start)",
            )
        ]
    else:
        findings = [Finding(Level.OK, f"{where}, schema {state.schema_version}")]
    seen = {replica.name: replica for replica in state.replicas}
    if state.replicas:
        listed = ", ".join(
            f"{r.name}{' (leader)' if r.name == state.leader else ''} seen {_ago(now - r.seen_at)}"
            for r in state.replicas
        )
        findings.append(Finding(Level.OK, f"replicas: {listed}"))
    if state.leader is None:
        if state.replicas:
            findings.append(
                Finding(Level.WARNING, "leader: none yet; one of the replicas should lead soon")
            )
        return findings
    last = seen[state.leader].seen_at if state.leader in seen else state.leader_since
    if last is not None and now - last > STALE_SECONDS:
        findings.append(
            Finding(
                Level.WARNING,
                f"leader: {state.leader} (term {state.epoch}), last seen {_ago(now - last)}; "
                "is it running? Another replica takes over once its lock is released",
            )
        )
    else:
        findings.append(Finding(Level.OK, f"leader: {state.leader} (term {state.epoch})"))
    return findings


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.0f} h ago"
