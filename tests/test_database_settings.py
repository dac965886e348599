"""BRIDGE_DATABASE_URL and BRIDGE_DATABASE_PASSWORD_FILE: checked once, completed with the
password, never echoed; the parameters asyncpg reads pass through, the others are refused."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import asyncpg
import asyncpg.connect_utils
import pytest

from bridge import wiring
from bridge.config import ConfigError, load_settings, load_storage_settings
from bridge.config_stores import load_stores
from bridge.queue.postgres import dsn
from bridge.redact import Secrets
from tests.postgres import PostgresServer

TOKEN = "55123:AAH-db-settings-TOKEN-0001"
PASSWORD = "db-PASS-w0rd-Xy19"
#: a password that needs quoting in a URL
AWKWARD = "p@ss:w/rd%#?& é-Zz42"


@pytest.fixture(autouse=True)
def _bot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "wh-secret-db-tests")


def _problems(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_storage_settings(env_file=None)
    return caught.value.problems


def test_without_the_url_the_queue_stays_in_sqlite() -> None:
    settings = load_settings(env_file=None)
    assert settings.database_url is None
    assert settings.bridge_database_url is None


def test_the_url_is_used_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql://bridge:{PASSWORD}@db.example.com:5432/bridge?sslmode=require"
    monkeypatch.setenv("BRIDGE_DATABASE_URL", f"  {url} ")
    assert load_settings(env_file=None).database_url == url


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (f"mysql://bridge:{PASSWORD}@db/bridge", "must start with postgresql://"),
        (f"db.example.com:5432/bridge?password={PASSWORD}", "must start with postgresql://"),
        (f"postgresql://bridge:{PASSWORD}@/bridge", "names no host"),
        (f"postgresql://bridge:{PASSWORD}@db:54x/bridge", "port that is not a number"),
        (f"postgresql://bridge:{PASSWORD}@db/bridge?sslmode=on", "sslmode must be one of"),
        (f"postgresql://bridge:{PASSWORD}@db/bridge?connect_timeout=5", "connect_timeout"),
        (f"postgresql://bridge:{PASSWORD}@db/bridge?keepalives_idle=5", "asyncpg"),
        (f"postgresql://bridge@db/bridge?password={PASSWORD}", "password"),
        (f"postgresql://bridge:{PASSWORD}@db/b?target_session_attrs=x", "target_session_attrs"),
    ],
)
def test_a_bad_url_is_one_line_without_the_password(
    monkeypatch: pytest.MonkeyPatch, url: str, words: str
) -> None:
    problems = _problems(monkeypatch, BRIDGE_DATABASE_URL=url)
    assert len(problems) == 1
    assert problems[0].startswith("BRIDGE_DATABASE_URL: ")
    assert words in problems[0]
    assert PASSWORD not in problems[0]


def test_a_host_may_come_from_the_query(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", "postgresql:///bridge?host=/run/postgresql")
    assert load_settings(env_file=None).database_url == "postgresql:///bridge?host=/run/postgresql"


def test_the_password_file_completes_the_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    password_file = tmp_path / "postgres_password"
    password_file.write_text(AWKWARD + "\n")
    monkeypatch.setenv("BRIDGE_DATABASE_URL", "postgresql://bridge@db:5432/bridge?sslmode=disable")
    monkeypatch.setenv("BRIDGE_DATABASE_PASSWORD_FILE", str(password_file))
    url = load_settings(env_file=None).database_url
    assert url == (f"postgresql://bridge:{quote(AWKWARD, safe='')}@db:5432/bridge?sslmode=disable")
    assert dsn.password_of(url) == AWKWARD


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "cannot be read (No such file or directory)"),
        (b"\xff\xfe-not-text", "is not UTF-8 text"),
        (b"\n", "is empty"),
        (PASSWORD.encode() + b"\nsecond line", "has several lines"),
    ],
)
def test_a_bad_password_file_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: bytes | None, words: str
) -> None:
    password_file = tmp_path / "postgres_password"
    if content is not None:
        password_file.write_bytes(content)
    problems = _problems(
        monkeypatch,
        BRIDGE_DATABASE_URL="postgresql://bridge@db/bridge",
        BRIDGE_DATABASE_PASSWORD_FILE=str(password_file),
    )
    assert len(problems) == 1
    assert problems[0].startswith(f"BRIDGE_DATABASE_PASSWORD_FILE: {password_file} {words}")
    assert PASSWORD not in problems[0]


def test_the_password_lives_in_one_place(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    password_file = tmp_path / "postgres_password"
    password_file.write_text(PASSWORD)
    problems = _problems(
        monkeypatch,
        BRIDGE_DATABASE_URL=f"postgresql://bridge:{PASSWORD}@db/bridge",
        BRIDGE_DATABASE_PASSWORD_FILE=str(password_file),
    )
    assert len(problems) == 1
    assert "carries a password too" in problems[0]
    assert PASSWORD not in problems[0]


def test_a_password_file_needs_the_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    password_file = tmp_path / "postgres_password"
    password_file.write_text(PASSWORD)
    problems = _problems(monkeypatch, BRIDGE_DATABASE_PASSWORD_FILE=str(password_file))
    assert problems[0].startswith("BRIDGE_DATABASE_PASSWORD_FILE: is set but BRIDGE_DATABASE_URL")


def test_the_url_may_be_a_docker_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"postgresql://bridge:{PASSWORD}@db:5432/bridge"
    (tmp_path / "bridge_database_url").write_text(url + "\n")
    monkeypatch.setenv("BRIDGE_SECRETS_DIR", str(tmp_path))
    assert load_settings(env_file=None).database_url == url


def test_an_unreadable_password_file_stops_serve_and_check_with_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-password"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "WOOCOMMERCE_WEBHOOK_SECRET": "wh-secret-db-tests",
        "BRIDGE_DATA_DIR": str(tmp_path / "data"),
        "BRIDGE_DATABASE_URL": "postgresql://bridge@127.0.0.1:9/bridge",
        "BRIDGE_DATABASE_PASSWORD_FILE": str(missing),
    }
    for command in ("serve", "check"):
        done = subprocess.run(
            [sys.executable, "-m", "bridge", command],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        output = done.stdout + done.stderr
        assert "Traceback" not in output
        lines = [line for line in output.splitlines() if "BRIDGE_DATABASE_PASSWORD_FILE:" in line]
        assert len(lines) == 1, output
        assert str(missing) in lines[0]


def test_the_password_and_the_url_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql://bridge:{quote(AWKWARD, safe='')}@db:5432/bridge"
    monkeypatch.setenv("BRIDGE_DATABASE_URL", url)
    settings = load_settings(env_file=None)
    secrets = Secrets()
    wiring.mask_secrets(secrets, settings, load_stores(settings))
    text = secrets.scrub(f"connect to {url} as {AWKWARD} ({quote(AWKWARD, safe='')})")
    assert AWKWARD not in text
    assert quote(AWKWARD, safe="") not in text
    assert dsn.target(url).shown() == "postgresql://bridge:****@db:5432/bridge"


def _parsed(url: str) -> object:
    """What asyncpg makes of a URL: the parameters it read, the rest as server settings."""
    _addrs, params = asyncpg.connect_utils._parse_connect_dsn_and_args(
        dsn=url,
        host=None,
        port=None,
        user=None,
        password=None,
        passfile=None,
        database=None,
        ssl=None,
        service=None,
        servicefile=None,
        direct_tls=None,
        server_settings=None,
        target_session_attrs=None,
        krbsrvname=None,
        gsslib=None,
    )
    return params


def test_asyncpg_reads_the_parameters_the_bridge_passes_through() -> None:
    """The lists in bridge.queue.postgres.dsn say what asyncpg itself does with a URL."""
    base = "postgresql://bridge:pw@db:5432/bridge"
    settings = _parsed(base + "?application_name=woo&sslmode=disable").server_settings  # type: ignore[attr-defined]
    assert settings == {"application_name": "woo"}  # a server setting, sent on connect
    for name in sorted(dsn.LIBPQ_ONLY.keys() - {"password", "client_encoding"}):
        params = _parsed(f"{base}?sslmode=disable&{name}=1")
        # asyncpg does not read it: it would send it to the server as a setting of that name
        assert name in (params.server_settings or {}), name  # type: ignore[attr-defined]
    read = {
        "sslmode": "disable",
        "target_session_attrs": "read-write",
        "krbsrvname": "postgres",
        "gsslib": "gssapi",
        "ssl_min_protocol_version": "TLSv1.2",
        "port": "5433",
        "dbname": "other",
        "user": "someone",
        "passfile": "/nonexistent",
    }
    for name, value in read.items():
        params = _parsed(
            f"{base}?{name}={value}" + ("" if name == "sslmode" else "&sslmode=disable")
        )
        assert name not in (params.server_settings or {}), name  # type: ignore[attr-defined]
    assert read.keys() <= dsn.DRIVER


def test_sslmode_reaches_the_server(postgres_server: PostgresServer, postgres_url: str) -> None:
    """The test server has no TLS: sslmode=disable connects, sslmode=require is refused."""

    async def connect(url: str) -> object:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            return await conn.fetchval("SELECT current_setting('application_name')")
        finally:
            await conn.close()

    assert asyncio.run(connect(postgres_url + "?sslmode=disable&application_name=woo")) == "woo"
    with pytest.raises(ConnectionError):
        asyncio.run(connect(postgres_url + "?sslmode=require"))
