"""What every subcommand shares: loading settings with readable errors, and logging."""

from __future__ import annotations

import sys

from bridge import wiring
from bridge.config import (
    ConfigError,
    Settings,
    StorageSettings,
    load_settings,
    load_storage_settings,
)
from bridge.config_routes import load_routes
from bridge.config_stores import Stores, load_stores
from bridge.logs import setup_logging
from bridge.queue.postgres import failure as postgres
from bridge.queue.storage import Storage
from bridge.queue.store import Store, StoreError
from bridge.recovery.reconciler import StoreLink
from bridge.redact import Secrets

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


async def open_store_or_report() -> Storage | None:
    """Open the queue (PostgreSQL if BRIDGE_DATABASE_URL is set, else the SQLite file in
    BRIDGE_DATA_DIR), or explain on stderr why not."""
    try:
        storage = load_storage_settings()
        url = storage.database_url
    except ConfigError as exc:
        print("woo-bridge cannot open the database; fix these settings:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return None
    if url is None and not storage.database_path.exists():
        print(
            f"No database at {storage.database_path}: set BRIDGE_DATA_DIR to the bridge's "
            "data directory (run this where the bridge runs).",
            file=sys.stderr,
        )
        return None
    return await open_database_or_report(storage)


#: what a command that talks to the stores' REST API says when no store has a key
NO_REST_KEY = (
    "no store has a REST API key: set WOOCOMMERCE_CONSUMER_KEY and "
    "WOOCOMMERCE_CONSUMER_SECRET with WOOCOMMERCE_STORE_URL (or consumer_key, "
    "consumer_secret and store_url in a [[stores]] entry)"
)


def rest_command_setup(settings: Settings) -> tuple[Stores, Secrets]:
    """The stores, and their secrets masked in this command's log lines as in the bridge's.

    Raises ConfigError (from the BRIDGE_CONFIG file)."""
    stores = load_stores(settings)
    secrets = Secrets()
    wiring.mask_secrets(secrets, settings, stores)
    setup_logging(settings.bridge_log_level, settings.bridge_log_format, secrets)
    return stores, secrets


def rest_links_or_report(
    settings: Settings, stores: Stores, only: str | None, without_keys: str = ""
) -> tuple[StoreLink, ...] | None:
    """The stores with a REST API key (only the one named `only`, if given), or None after
    saying on stderr why there are none; `without_keys` is added to that explanation."""
    links = wiring.reconcile_links(stores, load_routes(settings, stores.names))
    if only is not None:
        if stores.get(only) is None:
            names = ", ".join(stores.names) or "none"
            print(f"woo-bridge: no store is named {only!r} (stores: {names})", file=sys.stderr)
            return None
        links = tuple(link for link in links if link.name == only)
    if not links:
        print(f"woo-bridge: {NO_REST_KEY}{without_keys}", file=sys.stderr)
        return None
    return links


async def open_database_or_report(settings: StorageSettings) -> Storage | None:
    """Open (or create) the bridge's queue, PostgreSQL's or SQLite's, or say on stderr why
    it cannot be opened."""
    try:
        url = settings.database_url
        if url is not None:
            return await postgres.open_store(url)
        return await Store.open(
            settings.database_path,
            settings.bridge_db_synchronous,
            settings.bridge_db_busy_timeout_seconds,
        )
    except ConfigError as exc:
        report_problems(exc)
        return None
    except StoreError as exc:
        print(f"woo-bridge: {exc}", file=sys.stderr)
        return None
