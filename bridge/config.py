"""Settings: read from the environment, a .env file, Docker secrets and the BRIDGE_CONFIG
file's [settings] table, validated once at startup.

The variable names are a public contract: shop owners put them in their compose files.
Over 300 lines because the settings are one class with one validator per rule, each with
the message a shop owner needs; the file's stores and routes are read elsewhere.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import is_currency
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)
from yarl import URL

# Re-exported: every caller catches ConfigError from here; the file reader raises it too.
from bridge.config_file import ConfigError as ConfigError
from bridge.config_file import FileSettingsSource, defines_stores
from bridge.queue.postgres import dsn
from bridge.render.i18n import DEFAULT_LANGUAGE, normalize_language
from bridge.render.links import OrderAdminUrls
from bridge.reports.schedule import WEEKDAYS, summary_time_problem, weekday_number
from bridge.routing.topics import pattern_problem
from bridge.woo.validate import store_url

DEFAULT_TELEGRAM_API = "https://api.telegram.org"
DOCKER_SECRETS_DIR = "/run/secrets"
#: what TELEGRAM_PROXY_URL may use (socks5h resolves host names at the proxy)
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")

S = TypeVar("S", bound=BaseSettings)
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: paths the bridge serves for something else than Telegram (besides /webhook...)
_OWN_PATHS = {"/healthz": "health checks", "/readyz": "health checks", "/metrics": "metrics"}


_CONFIG = SettingsConfigDict(
    env_file=".env",
    env_file_encoding="utf-8",
    extra="ignore",
    # pydantic prints every collected input in validation errors by default,
    # which would put the bot token and webhook secret into the logs.
    hide_input_in_errors=True,
    validate_default=True,
)


def _config_path(*sources: PydanticBaseSettingsSource) -> Path | None:
    """BRIDGE_CONFIG as given to the constructor, in the environment or in .env."""
    for source in sources:
        if isinstance(source, InitSettingsSource):
            value = source.init_kwargs.get("bridge_config")
        elif isinstance(source, EnvSettingsSource):  # .env's source is one too
            value = source.env_vars.get("bridge_config")
        else:
            continue
        if value:
            return Path(value)
    return None


class _SecretFiles(SecretsSettingsSource):
    """Docker secrets, with an unreadable file reported as one line naming it.

    pydantic-settings would raise a SettingsError whose traceback fills a screen, even
    when the variable is also set in the environment.
    """

    def __call__(self) -> dict[str, Any]:
        self._problems: list[str] = []
        values = super().__call__()
        if self._problems:
            raise ConfigError(self._problems)
        return values

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        try:
            return super().get_field_value(field, field_name)
        except (OSError, UnicodeDecodeError) as exc:
            path = Path(str(self.secrets_dir)) / field_name
            self._problems.append(
                f"{field_name.upper()} (Docker secret {path}): {_unreadable(path, exc)}"
            )
            return None, field_name, False


def _unreadable(path: Path, exc: Exception) -> str:
    """Why a Docker secret file cannot be read, and what to do; never its content."""
    if isinstance(exc, UnicodeDecodeError):
        return "is not UTF-8 text; it must hold the value alone, as text"
    if isinstance(exc, PermissionError):
        return (
            f"cannot be read by this user (uid {os.getuid()}): make it readable, e.g. "
            f"chown {os.getuid()} {path} && chmod 0400 {path}, or remove it"
        )
    return (
        f"cannot be read ({getattr(exc, 'strerror', None) or type(exc).__name__}); fix or remove it"
    )


def _layers(
    settings_cls: type[BaseSettings],
    init_settings: PydanticBaseSettingsSource,
    env_settings: PydanticBaseSettingsSource,
    dotenv_settings: PydanticBaseSettingsSource,
) -> list[tuple[str, PydanticBaseSettingsSource]]:
    """The sources below the constructor's arguments, highest first, each with its origin."""
    layers = [("env", env_settings), (".env", dotenv_settings)]
    # Only when present: a missing directory is normal outside Docker, not worth a warning.
    # Read from the environment's source, like every variable (not from .env).
    env_vars = env_settings.env_vars if isinstance(env_settings, EnvSettingsSource) else {}
    secrets_dir = Path(env_vars.get("bridge_secrets_dir") or DOCKER_SECRETS_DIR)
    if secrets_dir.is_dir():
        layers.append(("secret", _SecretFiles(settings_cls, secrets_dir=secrets_dir)))
    path = _config_path(init_settings, env_settings, dotenv_settings)
    # Every setting's name is known to the file, also when only some settings are read.
    layers.append(("file", FileSettingsSource(settings_cls, path, known=Settings.model_fields)))
    return layers


class _Layered(BaseSettings):
    """Reads each setting from, highest first: the environment, the .env file, Docker
    secrets (files named like the variables in BRIDGE_SECRETS_DIR, default /run/secrets),
    the BRIDGE_CONFIG file's [settings] table; else the default."""

    model_config = _CONFIG

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        layers = _layers(settings_cls, init_settings, env_settings, dotenv_settings)
        return (init_settings, *(source for _, source in layers))


class MessageSettings(_Layered):
    """What shapes the messages. Enough on its own to preview them (`woo-bridge render`),
    without the bot's token or the webhook secret."""

    # Messages: templates, language, money and dates, and links into the store's admin.
    bridge_templates_dir: Path | None = None
    bridge_language: str = DEFAULT_LANGUAGE
    bridge_timezone: str = "UTC"
    # Sales summaries for the TELEGRAM_CHAT_ID chat (routes set summary_at themselves).
    bridge_daily_summary_at: str | None = None
    bridge_weekly_summary_on: str | None = None
    #: how often the summary worker looks at the clock
    bridge_summary_check_seconds: float = Field(default=30.0, gt=0)
    woocommerce_store_url: str | None = None
    woocommerce_order_admin_urls: OrderAdminUrls = "classic"
    woocommerce_currency: str | None = None

    @field_validator("bridge_templates_dir")
    @classmethod
    def _templates_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(
                f"{value} is not a folder; create it (templates in it replace the built-in "
                "ones, file by file) or unset the variable"
            )
        return value

    @field_validator("bridge_language")
    @classmethod
    def _language(cls, value: str) -> str:
        return normalize_language(value)

    @field_validator("bridge_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a time zone; use an IANA name such as Asia/Ho_Chi_Minh, "
                "America/Sao_Paulo or Europe/London"
            ) from None
        return value.strip()

    @field_validator("woocommerce_store_url", mode="before")
    @classmethod
    def _store_url(cls, value: object) -> object:
        if isinstance(value, str):
            return str(store_url(value)) if value.strip() else None
        return value

    @field_validator("woocommerce_currency", mode="before")
    @classmethod
    def _currency(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        code = value.strip().upper()
        if not code:
            return None
        if not is_currency(code):
            raise ValueError(
                f"{value!r} is not a currency code; use the store's ISO 4217 code as shown in "
                "WooCommerce > Settings > General > Currency, e.g. VND, BRL or USD"
            )
        return code

    @field_validator("bridge_daily_summary_at")
    @classmethod
    def _summary_at(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        problem = summary_time_problem(value)
        if problem:
            raise ValueError(problem)
        return value.strip()

    @field_validator("bridge_weekly_summary_on")
    @classmethod
    def _weekly_on(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if weekday_number(value) is None:
            raise ValueError(f"{value!r} is not a weekday; use one of {', '.join(WEEKDAYS)}")
        return value.strip().lower()

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.bridge_timezone)


class StorageSettings(_Layered):
    """Where the queue lives: all that commands working on the database need."""

    bridge_data_dir: Path = Path("data")
    bridge_db_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    bridge_db_busy_timeout_seconds: float = Field(default=5.0, ge=0)

    # PostgreSQL instead of SQLite, for several replicas (docs/replicas.md). A secret as a
    # whole: it may carry the password. The password may come from a file of its own
    # instead (a Docker secret, as the postgres image's POSTGRES_PASSWORD_FILE).
    bridge_database_url: SecretStr | None = None
    bridge_database_password_file: Path | None = None

    @field_validator("bridge_database_url")
    @classmethod
    def _database_url(cls, value: SecretStr | None) -> SecretStr | None:
        text = value.get_secret_value().strip() if value is not None else ""
        if not text:
            return None
        problem = dsn.problem(text)
        if problem:
            raise ValueError(problem)
        return SecretStr(text)

    @field_validator("bridge_database_password_file")
    @classmethod
    def _password_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None or not str(value).strip():
            return None
        url = info.data.get("bridge_database_url")
        if "bridge_database_url" in info.data and url is None:
            raise ValueError(
                "is set but BRIDGE_DATABASE_URL is not; set BRIDGE_DATABASE_URL to the "
                "database's URL without its password, e.g. postgresql://bridge@db:5432/bridge"
            )
        if url is not None and dsn.password_of(url.get_secret_value()):
            raise ValueError(
                "is set but BRIDGE_DATABASE_URL carries a password too; keep the password "
                "in one place: remove it from the URL (postgresql://user@host/db)"
            )
        _read_password(value)
        return value

    @property
    def database_url(self) -> str | None:
        """The complete PostgreSQL URL, password included (never print it), or None for
        SQLite. Raises ConfigError if the password file can no longer be read."""
        if self.bridge_database_url is None:
            return None
        url = self.bridge_database_url.get_secret_value()
        if self.bridge_database_password_file is None:
            return url
        try:
            return dsn.with_password(url, _read_password(self.bridge_database_password_file))
        except ValueError as exc:
            raise ConfigError([f"BRIDGE_DATABASE_PASSWORD_FILE: {exc}"]) from None

    @property
    def database_path(self) -> Path:
        return self.bridge_data_dir / "bridge.sqlite3"


def _read_password(path: Path) -> str:
    """The password a file holds alone (a trailing line break is not part of it).

    Raises ValueError naming the file, never quoting it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} {_unreadable(path, exc)}") from None
    password = text.rstrip("\r\n")
    if not password:
        raise ValueError(f"{path} is empty; it must hold the database password alone")
    if "\n" in password:
        raise ValueError(f"{path} has several lines; it must hold the database password alone")
    return password


class Settings(StorageSettings, MessageSettings):
    """Every setting of the bridge. Field names are the environment variable names.

    Precedence, highest first: environment variables, the .env file, Docker secrets
    (files named like the variables in BRIDGE_SECRETS_DIR, default /run/secrets), the
    BRIDGE_CONFIG file's [settings] table, then the defaults.
    """

    # The BRIDGE_CONFIG file (TOML): [settings], [[stores]] and [[routes]] (docs/routing.md,
    # docs/stores.md). Declared first: the webhook secret's check reads it.
    bridge_config: Path | None = None

    telegram_bot_token: SecretStr
    telegram_chat_id: int | None = None
    telegram_api_base_url: str = DEFAULT_TELEGRAM_API
    # Where Telegram is blocked: every Bot API call goes through this proxy. It may carry
    # credentials, so it is a secret as a whole and shown masked.
    telegram_proxy_url: SecretStr | None = None
    telegram_admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    # Who may press an order's status buttons besides the admins (docs/order-actions.md).
    telegram_staff_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    # How long a cancelling (or refunding, failing) tap waits for its confirming second tap.
    bridge_order_confirm_seconds: float = Field(default=30.0, gt=0)
    # How long a status button waits for the store's REST API before saying it failed.
    bridge_order_rest_timeout_seconds: float = Field(default=10.0, gt=0)
    telegram_alert_chat_id: int | None = None
    # Telegram updates by webhook instead of long polling (both set, or neither).
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    # The store at /webhook ("default"); optional when BRIDGE_CONFIG defines [[stores]].
    # The previous secret is accepted too while the secret is being changed (rotation).
    woocommerce_webhook_secret: SecretStr | None = None
    woocommerce_webhook_previous_secret: SecretStr | None = None
    # The default store's REST API key: gap filling (read) and the webhook watchdog (write).
    woocommerce_consumer_key: SecretStr | None = None
    woocommerce_consumer_secret: SecretStr | None = None
    # Where WooCommerce delivers to (https://bridge.example.com): which webhooks are ours.
    bridge_public_url: str | None = None
    # Gap filling: a pass at start-up and every interval (0: off); disabled webhooks of this
    # bridge are set active again unless BRIDGE_WEBHOOK_REACTIVATE is false.
    bridge_reconcile_interval_seconds: float = Field(default=300.0, ge=0)
    bridge_webhook_reactivate: bool = True

    bridge_host: str = "0.0.0.0"  # noqa: S104 - a container listens on all interfaces
    bridge_port: int = Field(default=8080, ge=1, le=65535)
    bridge_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    bridge_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    bridge_log_format: Literal["plain", "json"] = "plain"
    # Hardening against bad clients (docs/operations.md): refusals are logged once per
    # reason per interval; slow or idle connections are closed; connections are bounded.
    bridge_refusal_log_interval_seconds: float = Field(default=60.0, ge=0)
    bridge_header_timeout_seconds: float = Field(default=10.0, gt=0)
    bridge_body_timeout_seconds: float = Field(default=10.0, gt=0)
    bridge_max_connections: int = Field(default=1000, ge=1)
    # /metrics (and a copy of /healthz and /readyz) on an address of their own; the
    # queue's gauges are refreshed in the background, never per scrape.
    bridge_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    bridge_metrics_host: str | None = None
    bridge_metrics_refresh_seconds: float = Field(default=15.0, gt=0)

    # Delivery tuning. Tests shrink these; shops rarely need to.
    bridge_retry_base_seconds: float = Field(default=2.0, gt=0)
    bridge_retry_max_seconds: float = Field(default=300.0, gt=0)
    bridge_retry_max_attempts: int = Field(default=500, ge=1)
    bridge_retry_max_age_seconds: float = Field(default=3 * 24 * 3600.0, gt=0)
    bridge_send_timeout_seconds: float = Field(default=10.0, gt=0)
    bridge_send_concurrency: int = Field(default=8, ge=1, le=64)
    bridge_shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    bridge_poll_timeout_seconds: int = Field(default=30, ge=0, le=50)
    # Digests: a burst of one topic to one chat becomes one message.
    bridge_digest_topics: Annotated[tuple[str, ...], NoDecode] = ("product.*", "coupon.*")
    bridge_digest_threshold: int = Field(default=10, ge=1)
    bridge_digest_window_seconds: float = Field(default=300.0, gt=0)
    # Retention: how long finished rows stay in the database.
    bridge_retention_days: float = Field(default=7.0, gt=0)
    bridge_dead_letter_retention_days: float = Field(default=30.0, gt=0)
    #: the orders ledger sales reports read: independent of the events' retention
    bridge_report_retention_days: float = Field(default=400.0, gt=0)
    bridge_prune_interval_seconds: float = Field(default=3600.0, gt=0)
    # Telegram's flood limits (Bot FAQ); lower them if Telegram still answers 429.
    bridge_rate_overall_per_second: int = Field(default=30, ge=1)
    bridge_rate_chat_interval_seconds: float = Field(default=1.0, ge=0)
    bridge_rate_group_per_minute: int = Field(default=20, ge=1)
    bridge_rate_group_window_seconds: float = Field(default=60.0, gt=0)
    bridge_rate_overall_window_seconds: float = Field(default=1.0, gt=0)
    # Several replicas on PostgreSQL (docs/leadership.md): how often a follower tries to
    # lead, how often the leader proves its session alive and how long it waits for that
    # proof before it stops leading; the name /status and /metrics give this replica.
    bridge_leader_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    bridge_leader_heartbeat_seconds: float = Field(default=2.0, gt=0, le=60)
    bridge_leader_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    bridge_replica_name: str | None = Field(default=None, min_length=1, max_length=40)

    @property
    def replica_name(self) -> str:
        """BRIDGE_REPLICA_NAME, else the host's name and the process id."""
        return self.bridge_replica_name or f"{socket.gethostname()}-{os.getpid()}"

    @field_validator("telegram_admin_ids", "telegram_staff_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            try:
                return frozenset(int(p) for p in parts if p)
            except ValueError:
                raise ValueError(
                    "expected comma-separated numeric Telegram user ids, e.g. 12345,67890"
                ) from None
        return value

    @field_validator("bridge_digest_topics", mode="before")
    @classmethod
    def _split_topics(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value

    @field_validator("bridge_digest_topics")
    @classmethod
    def _digest_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        problems = [p for p in map(pattern_problem, value) if p is not None]
        if problems:
            raise ValueError("; ".join(problems) + " (or leave it empty to turn digests off)")
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        token = value.get_secret_value().strip()
        if ":" not in token or not token.split(":", 1)[0].isdigit():
            raise ValueError(
                "does not look like a bot token (expected 123456:ABC-...); ask @BotFather"
            )
        return SecretStr(token)

    @field_validator("woocommerce_webhook_secret")
    @classmethod
    def _secret_present(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            if defines_stores(info.data.get("bridge_config")):
                return None
            # Reported like any other missing variable.
            raise PydanticCustomError("missing", "Field required")
        if not value.get_secret_value():
            raise ValueError(
                "is empty; copy the secret from WooCommerce > Settings > Advanced > Webhooks"
            )
        return value

    @field_validator("woocommerce_webhook_previous_secret")
    @classmethod
    def _previous_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # emptied once the rotation is over
        if (
            "woocommerce_webhook_secret" in info.data
            and info.data["woocommerce_webhook_secret"] is None
        ):
            raise ValueError(
                "is set but WOOCOMMERCE_WEBHOOK_SECRET is not; the previous secret is accepted "
                "only beside the current one: set WOOCOMMERCE_WEBHOOK_SECRET to the new secret"
            )
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value and not value.startswith("https://"):
            raise ValueError("must be an https:// URL that Telegram can reach")
        if value:
            path = URL(value).path
            if path == "/webhook" or path.startswith("/webhook/") or path in _OWN_PATHS:
                raise ValueError(
                    f"its path {path} is served for {_OWN_PATHS.get(path, 'WooCommerce')}, so "
                    "staff commands would never arrive; give Telegram a path of its own, e.g. "
                    f"https://{URL(value).host}/telegram"
                )
        return value or None

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("use 1 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @model_validator(mode="after")
    def _metrics_port(self) -> Settings:
        if self.bridge_metrics_port == self.bridge_port:
            raise ValueError(
                "BRIDGE_METRICS_PORT is BRIDGE_PORT; choose another port, or leave "
                "BRIDGE_METRICS_PORT unset to serve /metrics beside the webhooks"
            )
        return self

    @model_validator(mode="after")
    def _weekly_needs_a_time(self) -> Settings:
        if self.bridge_weekly_summary_on and not self.bridge_daily_summary_at:
            raise ValueError(
                "BRIDGE_WEEKLY_SUMMARY_ON needs BRIDGE_DAILY_SUMMARY_AT: the weekly summary is "
                'sent at that time, e.g. BRIDGE_DAILY_SUMMARY_AT="21:00"'
            )
        return self

    @model_validator(mode="after")
    def _rest_key(self) -> Settings:
        key, secret = self.woocommerce_consumer_key, self.woocommerce_consumer_secret
        if (key is None) != (secret is None):
            raise ValueError(
                "WOOCOMMERCE_CONSUMER_KEY and WOOCOMMERCE_CONSUMER_SECRET go together (the REST "
                "API key, from WooCommerce > Settings > Advanced > REST API): set both, or "
                "neither"
            )
        if key is not None and not self.woocommerce_store_url:
            raise ValueError(
                "WOOCOMMERCE_CONSUMER_KEY needs WOOCOMMERCE_STORE_URL: the store's REST API is "
                "reached at that address"
            )
        return self

    @model_validator(mode="after")
    def _webhook_pair(self) -> Settings:
        if (self.telegram_webhook_url is None) != (self.telegram_webhook_secret is None):
            raise ValueError(
                "TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET go together: set both for "
                "updates by webhook, or neither for long polling"
            )
        return self

    @field_validator("telegram_proxy_url")
    @classmethod
    def _proxy_url(cls, value: SecretStr | None) -> SecretStr | None:
        text = value.get_secret_value().strip() if value is not None else ""
        if not text:
            return None
        # The value is never echoed: it may carry the proxy's password.
        scheme, sep, _rest = text.partition("://")
        if not sep or scheme.lower() not in PROXY_SCHEMES:
            raise ValueError(
                "must start with one of " + ", ".join(f"{s}://" for s in PROXY_SCHEMES) + ", "
                "e.g. socks5://user:password@proxy.example.com:1080"
            )
        try:
            url = URL(text)
            port = url.port
        except ValueError:
            url, port = URL(), None
        if not url.host or port is None:
            raise ValueError(
                "must name the proxy's host and port, e.g. http://proxy.example.com:3128"
            )
        return SecretStr(text)

    @property
    def proxy_url(self) -> str | None:
        """TELEGRAM_PROXY_URL in clear, for the HTTP client only (never print it)."""
        return self.telegram_proxy_url.get_secret_value() if self.telegram_proxy_url else None

    @field_validator("bridge_public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("http://", "https://")) or not URL(value).host:
            raise ValueError(
                "must be the address WooCommerce delivers to, e.g. https://bridge.example.com"
            )
        return value.rstrip("/")

    @field_validator("telegram_api_base_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class WooApiSettings(_Layered):
    """What `woo-bridge woo` needs: the store's REST API key, and the webhooks' secret.

    Read from the same sources as the bridge's settings; a [[stores]] entry of the
    BRIDGE_CONFIG file gives its own key (`--store NAME`).
    """

    bridge_config: Path | None = None
    woocommerce_consumer_key: SecretStr | None = None
    woocommerce_consumer_secret: SecretStr | None = None
    woocommerce_webhook_secret: SecretStr | None = None
    # The default store's address and the bridge's public one, as the bridge reads them.
    woocommerce_store_url: str | None = None
    bridge_public_url: str | None = None


def setting_origins(env_file: str | Path | None = ".env") -> dict[str, str]:
    """Where each setting's value comes from (one of ORIGINS), by field name.

    Raises ConfigError when the BRIDGE_CONFIG file cannot be read.
    """
    init = InitSettingsSource(Settings, {})
    env = EnvSettingsSource(Settings)
    dotenv = DotEnvSettingsSource(Settings, env_file=env_file)
    found = [(origin, source()) for origin, source in _layers(Settings, init, env, dotenv)]
    return {
        name: next((origin for origin, values in found if name in values), "default")
        for name in Settings.model_fields
    }


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Build Settings from the environment (and `env_file`, if it exists).

    Raises ConfigError with one line per problem, naming the variable.
    """
    return _load(Settings, env_file)


def load_storage_settings(env_file: str | Path | None = ".env") -> StorageSettings:
    """Only the database settings, for commands that need nothing else."""
    return _load(StorageSettings, env_file)


def load_message_settings(env_file: str | Path | None = ".env") -> MessageSettings:
    """Only what rendering needs: works without the bot token and the webhook secret."""
    return _load(MessageSettings, env_file)


def load_woo_api_settings(env_file: str | Path | None = ".env") -> WooApiSettings:
    """The REST API key and the webhooks' secret, for `woo-bridge woo`."""
    return _load(WooApiSettings, env_file)


def _load(kind: type[S], env_file: str | Path | None) -> S:
    try:
        return kind(_env_file=env_file)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc)) from None


def describe_errors(exc: ValidationError) -> list[str]:
    """One line per problem naming the variable; never echoes the input values."""
    lines = []
    for err in exc.errors(include_input=False, include_url=False):
        variable = str(err["loc"][0]).upper() if err["loc"] else "configuration"
        message = err["msg"]
        if err["type"] == "missing":
            message = "is required but not set"
        lines.append(f"{variable}: {message.removeprefix('Value error, ')}")
    return lines
