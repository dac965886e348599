"""Opening PostgreSQL, and why it failed in safe words: the place, a reason, what to do.

asyncpg's exceptions may carry the user, the host or (a client configuration error) parts
of the URL; the bridge never prints them as they are. The reason is chosen by the
exception's class, the place is built from the URL without its password, and the rest of
any text is scrubbed of the URL's secrets.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

import asyncpg

from bridge.clock import SYSTEM_CLOCK, Clock
from bridge.queue.postgres import dsn
from bridge.queue.postgres.schema import SchemaTooNew
from bridge.queue.postgres.store import PgStore
from bridge.queue.storage import StoreError

_AUTHENTICATION = (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)


class DatabaseUnreachable(StoreError):
    """PostgreSQL could not be reached or refused the bridge; the message is safe to log."""


def reason(exc: BaseException) -> tuple[str, str]:
    """A short reason (a status word or two) and the advice that goes with it."""
    if isinstance(
        exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return (
            "authentication failed",
            "check the user in BRIDGE_DATABASE_URL and the password (in the URL or in "
            "BRIDGE_DATABASE_PASSWORD_FILE), and that pg_hba.conf lets this host in",
        )
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return "no such database", "create it (CREATE DATABASE ... OWNER ...) or fix its name"
    if isinstance(exc, asyncpg.TooManyConnectionsError):
        return (
            "too many connections",
            "raise max_connections on the server or run fewer replicas",
        )
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return (
            "permission denied",
            "the user needs CREATE on the database's schema to apply the bridge's migrations",
        )
    if isinstance(exc, SchemaTooNew):
        return "schema too new", str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused", "is PostgreSQL running and listening on that host and port?"
    if isinstance(exc, socket.gaierror):
        return "unknown host", "check the host name in BRIDGE_DATABASE_URL"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timed out", "is the host reachable from here (firewall, network)?"
    if isinstance(exc, ssl.SSLError) or (isinstance(exc, ConnectionError) and "SSL" in str(exc)):
        return "TLS failed", "check sslmode and sslrootcert in BRIDGE_DATABASE_URL"
    if isinstance(exc, asyncpg.ClientConfigurationError):
        return "bad connection settings", "check the parameters of BRIDGE_DATABASE_URL"
    if isinstance(exc, OSError | asyncpg.InterfaceError | asyncpg.ConnectionDoesNotExistError):
        return "connection lost", "is PostgreSQL running, and the network up?"
    if isinstance(exc, asyncpg.PostgresError):
        # The server's own words name tables and constraints, never a password.
        return f"refused by the server ({exc.sqlstate}: {exc.message})", "see the server's log"
    return type(exc).__name__, "see the server's log"


def explain(exc: BaseException, url: str) -> str:
    """One line: where, why and what to do; never the password, never the raw exception."""
    word, advice = reason(exc)
    detail = ""
    if isinstance(exc, asyncpg.ClientConfigurationError | ssl.SSLError):
        detail = f" ({scrub(str(exc), url)})"
    return f"cannot use PostgreSQL at {dsn.target(url)}: {word}{detail}; {advice}"


def scrub(text: str, url: str) -> str:
    """`text` with the URL and its password (in any form) masked."""
    for secret in sorted(dsn.secrets(url), key=len, reverse=True):
        text = text.replace(secret, "****")
    return text


async def open_store(url: str, *, clock: Clock = SYSTEM_CLOCK) -> PgStore:
    """PgStore.open, with a failure told as one safe line: where, why, what to do.

    Raises DatabaseUnreachable."""
    try:
        return await PgStore.open(url, clock=clock)
    except StoreError as exc:
        # PgStore words its own errors; the driver's exception says best what to do.
        cause = exc.__cause__ or exc.__context__
        if cause is None:
            raise DatabaseUnreachable(
                f"cannot use PostgreSQL at {dsn.target(url)}: {exc}"
            ) from None
        raise DatabaseUnreachable(explain(cause, url)) from None
    except (SchemaTooNew, asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise DatabaseUnreachable(explain(exc, url)) from None
