"""A real PostgreSQL server for the tests: a throwaway cluster, or one given by a URL.

BRIDGE_TEST_DATABASE_URL (a superuser's URL, e.g. postgresql://postgres:pw@host:5432/postgres)
points the tests at a server of your own. Otherwise the tests start a cluster of their own
in a temporary directory with the server programs of the machine (Debian keeps them in
/usr/lib/postgresql/<major>/bin). initdb and postgres refuse to run as root, so as root the
cluster belongs to the `postgres` system user that Debian's package creates, and the
programs run through runuser.

Every test gets a database of its own, dropped afterwards. Without PostgreSQL the tests
that need it skip with a message saying how to get it; with BRIDGE_TEST_REQUIRE_POSTGRES=1
(set by .ci/run) they fail instead, so CI never passes by skipping them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import pytest

#: the superuser's password on a cluster the tests start: long, so that a test looking for
#: it in logs and answers cannot match by chance
TEST_PASSWORD = "pg-Secret-7f3a9c2e41d8b6"
_SERVER_SETTINGS = (
    # Durability off: a test cluster dies with the run. Never do this in production.
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c max_connections=200 -c shared_buffers=32MB"
)


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to completion on a loop of its own, in a thread: fixtures may be set
    up while a test's loop is running."""
    result: list[Any] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def _server_programs() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    """A running server and a superuser's URL to it."""

    admin_url: str
    bin_dir: Path | None = None
    data_dir: Path | None = None
    owner: str | None = None
    port: int = 0
    log_file: Path | None = None
    #: the server's -c settings (the benchmarks run it durable)
    settings: str = _SERVER_SETTINGS
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def url(self, dbname: str, *, password: str | None = None) -> str:
        """The URL of one database, with the superuser's password or another."""
        parts = urlsplit(self.admin_url)
        netloc = parts.netloc
        if password is not None:
            user = (parts.username or "postgres") + ":" + quote(password, safe="")
            netloc = f"{user}@{parts.hostname}:{parts.port}"
        return urlunsplit((parts.scheme, netloc, "/" + dbname, parts.query, ""))

    def create_database(self) -> str:
        name = f"bridge_test_{os.getpid()}_{next(self._names)}"
        _run(self._admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
        return name

    def drop_database(self, name: str) -> None:
        _run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    async def _admin(self, *statements: str) -> None:
        conn = await asyncpg.connect(self.admin_url, timeout=10)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    # stopping and starting: only for a cluster the tests own
    def _ctl(self, *args: str) -> None:
        if self.bin_dir is None or self.data_dir is None:
            pytest.skip("stopping the server needs a cluster the tests started")
        _as_owner(self.owner, [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), *args])

    def stop(self) -> None:
        """Stop the server at once (fast shutdown): every session ends."""
        self._ctl("-m", "fast", "-w", "stop")

    def start(self) -> None:
        assert self.log_file is not None
        self._ctl(
            "-l",
            str(self.log_file),
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.data_dir} {self.settings}",
            "-w",
            "start",
        )


def _as_owner(owner: str | None, command: list[str]) -> None:
    if owner is not None:
        command = ["runuser", "-u", owner, "--", *command]
    # pg_ctl's server inherits stdout unless -l is given; every start here gives it.
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start_cluster(root: Path, settings: str = _SERVER_SETTINGS) -> PostgresServer:
    bin_dir = _server_programs()
    if bin_dir is None:
        raise LookupError(
            "no PostgreSQL server programs (initdb) on this machine: install PostgreSQL "
            "(Debian: apt-get install postgresql) or set BRIDGE_TEST_DATABASE_URL to a "
            "superuser's URL"
        )
    owner = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise LookupError(
                "running as root, and there is no `postgres` user to run the server as: "
                "install Debian's postgresql package or set BRIDGE_TEST_DATABASE_URL"
            ) from None
        owner = "postgres"
        shutil.chown(root, owner)
    data_dir = root / "data"
    password_file = root / "password"
    password_file.write_text(TEST_PASSWORD + "\n")
    if owner:
        shutil.chown(password_file, owner)
    _as_owner(
        owner,
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={password_file}",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        ],
    )
    password_file.unlink()
    server = PostgresServer(
        admin_url=f"postgresql://postgres:{TEST_PASSWORD}@127.0.0.1:{_free_port()}/postgres",
        bin_dir=bin_dir,
        data_dir=data_dir,
        owner=owner,
        log_file=root / "server.log",
        settings=settings,
    )
    server.port = urlsplit(server.admin_url).port or 0
    if owner:
        server.log_file.touch()  # type: ignore[union-attr]
        shutil.chown(server.log_file, owner)  # type: ignore[arg-type]
    server.start()
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (see the module's docstring)."""
    given = os.environ.get("BRIDGE_TEST_DATABASE_URL")
    if given:
        yield PostgresServer(admin_url=given)
        return
    root = Path(tempfile.mkdtemp(prefix="bridge-pg-"))
    root.chmod(0o755)
    try:
        try:
            server = start_cluster(root)
        except LookupError as exc:
            if os.environ.get("BRIDGE_TEST_REQUIRE_POSTGRES") == "1":
                pytest.fail(f"BRIDGE_TEST_REQUIRE_POSTGRES=1, but {exc}")
            pytest.skip(str(exc))
        try:
            yield server
        finally:
            # It may already be stopped, by a test that failed halfway.
            with contextlib.suppress(subprocess.CalledProcessError):
                server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of an empty database of this test's own, dropped afterwards."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)
