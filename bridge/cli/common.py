"""What every subcommand shares: loading settings with readable errors, and logging."""

from __future__ import annotations

import sys

from bridge.config import ConfigError, Settings, load_settings, load_storage_settings
from bridge.queue.store import Store, StoreError

#: the exit status for a configuration a shop owner has to fix
EXIT_CONFIG = 2


def settings_or_report() -> Settings | None:
    """Load the settings, or print one line per problem to stderr and return None."""
    try:
        return load_settings()
    except ConfigError as exc:
        report_problems(exc)
        return None


def report_problems(exc: ConfigError) -> None:
    """Print a configuration's problems to stderr, one line each."""
    print("woo-bridge cannot start; fix these settings:", file=sys.stderr)
    for problem in exc.problems:
        print(f"  {problem}", file=sys.stderr)


async def open_store_or_report() -> Store | None:
    """Open the database named by BRIDGE_DATA_DIR, or explain on stderr why not."""
    try:
        storage = load_storage_settings()
    except ConfigError as exc:
        print("woo-bridge cannot open the database; fix these settings:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return None
    if not storage.database_path.exists():
        print(
            f"No database at {storage.database_path}: set BRIDGE_DATA_DIR to the bridge's "
            "data directory (run this where the bridge runs).",
            file=sys.stderr,
        )
        return None
    try:
        return await Store.open(
            storage.database_path,
            storage.bridge_db_synchronous,
            storage.bridge_db_busy_timeout_seconds,
        )
    except StoreError as exc:
        print(f"{exc}", file=sys.stderr)
        return None
