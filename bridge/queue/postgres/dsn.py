"""BRIDGE_DATABASE_URL: checked, completed with a password, and shown without it.

The URL goes to asyncpg as it is. asyncpg reads the libpq parameters listed in DRIVER
from the URL's query and sends every other one to the server as a run-time setting
(`application_name`, `statement_timeout`, `search_path`, ...). A libpq parameter it does
not know (LIBPQ_ONLY) would reach the server as a setting of that name and be refused at
every connection, so the URL is refused at start-up instead, saying why.

Nothing here ever puts the password in a message: problems name the part at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

SCHEMES = ("postgresql", "postgres")
#: the libpq parameters asyncpg 0.32 takes from the URL's query (connect_utils.py)
DRIVER = frozenset(
    {
        "host",
        "port",
        "dbname",
        "database",
        "user",
        "passfile",
        "service",
        "sslmode",
        "sslcert",
        "sslkey",
        "sslrootcert",
        "sslcrl",
        "sslpassword",
        "sslnegotiation",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "target_session_attrs",
        "krbsrvname",
        "gsslib",
    }
)
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
SESSION_ATTRS = ("any", "primary", "standby", "prefer-standby", "read-write", "read-only")
#: libpq parameters asyncpg does not read, with what to do instead
LIBPQ_ONLY = {
    "connect_timeout": "the bridge sets its own connection timeout",
    "keepalives": "the leader notices a lost server through its heartbeat instead",
    "keepalives_idle": "the leader notices a lost server through its heartbeat instead",
    "keepalives_interval": "the leader notices a lost server through its heartbeat instead",
    "keepalives_count": "the leader notices a lost server through its heartbeat instead",
    "tcp_user_timeout": "the leader notices a lost server through its heartbeat instead",
    "hostaddr": "put the address in the host part of the URL",
    "channel_binding": "asyncpg uses SCRAM without channel binding",
    "gssencmode": "use sslmode for encryption",
    "requiressl": "use sslmode=require",
    "sslcompression": "TLS compression is not supported",
    "sslsni": "asyncpg always sends the host name",
    "requirepeer": "not supported by asyncpg",
    "load_balance_hosts": "not supported by asyncpg; list the hosts in order",
    "fallback_application_name": "use application_name",
    "client_encoding": "the bridge always talks UTF-8",
    "password": "put the password in the URL or in BRIDGE_DATABASE_PASSWORD_FILE",
    "replication": "not supported",
}
EXAMPLE = "postgresql://bridge:PASSWORD@db.example.com:5432/bridge?sslmode=require"


@dataclass(frozen=True)
class Target:
    """Where a URL points, in words that may be shown: no password, ever."""

    user: str
    hosts: str  # host:port, comma-separated when there are several
    dbname: str
    has_password: bool
    params: tuple[tuple[str, str], ...]

    def __str__(self) -> str:
        return f"{self.hosts}/{self.dbname}"

    def shown(self) -> str:
        """The URL as `check` prints it: the password masked."""
        user = self.user + (":****" if self.has_password else "")
        query = "&".join(f"{k}={v}" for k, v in self.params if k != "sslpassword")
        return f"postgresql://{user}@{self.hosts}/{self.dbname}" + (f"?{query}" if query else "")


def problem(url: str) -> str | None:
    """What is wrong with a database URL, in words that never repeat its password."""
    scheme, sep, _rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        return f"must start with postgresql:// (or postgres://), e.g. {EXAMPLE}"
    try:
        parts = urlsplit(url)
        params = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        return f"is not a URL asyncpg can read; it must look like {EXAMPLE}"
    hostlist = parts.netloc.rpartition("@")[2]
    names = {name for name, _ in params}
    if not hostlist and "host" not in names:
        return f"names no host; it must look like {EXAMPLE}"
    for spec in filter(None, hostlist.split(",")):
        port = spec.rpartition("]")[2] if spec.startswith("[") else spec
        _, colon, number = port.partition(":")
        if colon and not (number.isdigit() and 0 < int(number) < 65536):
            return "has a port that is not a number from 1 to 65535"
    for name, value in params:
        if name in LIBPQ_ONLY:
            return (
                f"its parameter {name} is a libpq parameter that the bridge's driver "
                f"(asyncpg) does not read: {LIBPQ_ONLY[name]}; remove it"
            )
        if name == "sslmode" and value not in SSL_MODES:
            return f"sslmode must be one of {', '.join(SSL_MODES)}"
        if name == "target_session_attrs" and value not in SESSION_ATTRS:
            return f"target_session_attrs must be one of {', '.join(SESSION_ATTRS)}"
    return None


def target(url: str) -> Target:
    """Who connects where (assumes `problem(url)` is None)."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    userinfo, at, hostlist = parts.netloc.rpartition("@")
    user = unquote(userinfo.partition(":")[0]) if at else ""
    user = params.get("user", user) or "(the system user)"
    hosts = unquote(hostlist) or params.get("host", "")
    if "port" in params:
        hosts += f":{params['port']}"
    dbname = unquote(parts.path.lstrip("/")) or params.get("dbname") or params.get("database")
    shown = tuple((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True))
    return Target(user, hosts, dbname or user, bool(password_of(url)), shown)


def password_of(url: str) -> str | None:
    """The password a URL carries, decoded, or None."""
    userinfo, at, _ = urlsplit(url).netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return None
    return unquote(userinfo.partition(":")[2]) or None


def with_password(url: str, password: str) -> str:
    """The URL with `password` (URL-quoted) in place of any it had."""
    parts = urlsplit(url)
    userinfo, at, hostlist = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0] if at else ""
    netloc = f"{user}:{quote(password, safe='')}@{hostlist}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def secrets(url: str | None) -> list[str]:
    """What to mask wherever the bridge writes: the whole URL and its password, as given
    and decoded."""
    if not url:
        return []
    found = [url]
    password = password_of(url)
    if password:
        found += [password, urlsplit(url).netloc.rpartition("@")[0].partition(":")[2]]
    sslpassword = dict(parse_qsl(urlsplit(url).query)).get("sslpassword")
    return found + ([sslpassword] if sslpassword else [])
