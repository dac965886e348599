"""The WooCommerce stores one bridge serves, each at its own delivery path with its own secret.

The store at /webhook is called "default" and is set by the variables
(WOOCOMMERCE_WEBHOOK_SECRET, WOOCOMMERCE_WEBHOOK_PREVIOUS_SECRET, WOOCOMMERCE_STORE_URL).
[[stores]] tables in the BRIDGE_CONFIG file add stores at /webhook/<name>. A file with a
mistake is refused as a whole, with one line per problem naming the store and the key.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from yarl import URL

from bridge.config import ConfigError, Settings
from bridge.config_file import read_config_file
from bridge.queue.models import DEFAULT_STORE as DEFAULT_STORE
from bridge.woo.validate import WooConfigError, store_url

WEBHOOK_PATH = "/webhook"
STORE_KEYS = (
    "name",
    "secret",
    "secret_file",
    "previous_secret",
    "previous_secret_file",
    "store_url",
    "consumer_key",
    "consumer_secret",
    "consumer_secret_file",
)
NAME_RULE = "1 to 64 characters of a-z, 0-9, _ and -"
_NAME = re.compile(r"[a-z0-9_-]{1,64}")


@dataclass(frozen=True)
class WooStore:
    """One WooCommerce store: where it delivers, the secrets it signs with, its address."""

    name: str
    secret: SecretStr
    #: the secret being replaced, still accepted while WooCommerce's webhooks are updated
    previous_secret: SecretStr | None = None
    #: the store's address, for "Open in admin" buttons; None for none
    store_url: URL | None = None
    #: where the secrets were set, for `woo-bridge check` (never their values)
    set_in: str = ""
    previous_set_in: str = ""
    #: the REST API key (ck_/cs_), for gap filling and the webhook watchdog; None for none
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None

    @property
    def has_rest_key(self) -> bool:
        """Whether the bridge may ask the store's REST API (both halves of the key set)."""
        return (
            self.consumer_key is not None
            and self.consumer_secret is not None
            and (self.store_url is not None)
        )

    def rest_secrets(self) -> list[str]:
        """The REST API secret, to mask in logs (it never signs a delivery)."""
        return [self.consumer_secret.get_secret_value()] if self.consumer_secret else []

    @property
    def path(self) -> str:
        """The delivery path; the default store's is also served at /webhook/default."""
        return WEBHOOK_PATH if self.name == DEFAULT_STORE else f"{WEBHOOK_PATH}/{self.name}"

    def secrets(self) -> list[str]:
        """The secrets a delivery may be signed with: the current one first."""
        return list(self.signing_secrets)

    @functools.cached_property
    def signing_secrets(self) -> tuple[str, ...]:
        """secrets(), read once: every delivery asks for them."""
        keys = [self.secret]
        if self.previous_secret is not None:
            keys.append(self.previous_secret)
        return tuple(key.get_secret_value() for key in keys)


class Stores:
    """The stores the bridge serves, by name."""

    def __init__(self, stores: Iterable[WooStore]) -> None:
        self._stores = {store.name: store for store in stores}

    def get(self, name: str) -> WooStore | None:
        return self._stores.get(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._stores)

    def urls(self) -> Mapping[str, URL | None]:
        """Each store's address, for the buttons of its messages."""
        return {name: store.store_url for name, store in self._stores.items()}

    def __iter__(self) -> Iterator[WooStore]:
        return iter(self._stores.values())

    def __len__(self) -> int:
        return len(self._stores)


def load_stores(settings: Settings) -> Stores:
    """The default store (if its secret is set) and the file's [[stores]]; raises
    ConfigError with one line per problem."""
    stores = []
    secret = settings.woocommerce_webhook_secret
    if secret is not None:
        url = settings.woocommerce_store_url
        stores.append(
            WooStore(
                DEFAULT_STORE,
                secret,
                settings.woocommerce_webhook_previous_secret,
                URL(url) if url else None,
                set_in="WOOCOMMERCE_WEBHOOK_SECRET",
                previous_set_in="WOOCOMMERCE_WEBHOOK_PREVIOUS_SECRET",
                consumer_key=settings.woocommerce_consumer_key,
                consumer_secret=settings.woocommerce_consumer_secret,
            )
        )
    if settings.bridge_config is not None:
        stores.extend(read_stores(settings.bridge_config))
    return Stores(stores)


def read_stores(path: Path) -> list[WooStore]:
    """The [[stores]] of the BRIDGE_CONFIG file; raises ConfigError."""
    entries = read_config_file(path).get("stores", [])
    if isinstance(entries, dict):
        raise ConfigError([f"{path}: stores: write each store as [[stores]], with two brackets"])
    problems: list[str] = []
    stores: list[WooStore] = []
    if not isinstance(entries, list):
        entries = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            problems.append(f"stores: entry {number} is not a table; write it as [[stores]]")
            continue
        store = _StoreReader(entry, number, path.parent, problems).read()
        if store is None:
            continue
        first = next((n for n, s in enumerate(stores, start=1) if s.name == store.name), None)
        if first is not None:
            problems.append(
                f'store {number} ("{store.name}"), key name: store {first} has this name too; '
                "each store needs a name of its own (it is its delivery path)"
            )
            continue
        stores.append(store)
    if problems:
        raise ConfigError([f"{path}: {problem}" for problem in problems])
    return stores


class _StoreReader:
    """Reads one [[stores]] table, collecting every problem rather than stopping at one."""

    def __init__(
        self, entry: dict[str, Any], number: int, folder: Path, problems: list[str]
    ) -> None:
        self._entry = entry
        self._folder = folder
        self._problems = problems
        name = entry.get("name")
        self._where = f'store {number} ("{name}")' if isinstance(name, str) else f"store {number}"
        self._ok = True

    def problem(self, key: str, text: str) -> None:
        self._problems.append(f"{self._where}, key {key}: {text}")
        self._ok = False

    def read(self) -> WooStore | None:
        for key in self._entry:
            if key not in STORE_KEYS:
                self.problem(key, f"is not a known key; a store may have {', '.join(STORE_KEYS)}")
        name = self._name()
        secret, set_in = self._secret("secret", required=True)
        previous, previous_set_in = self._secret("previous_secret", required=False)
        url = self._store_url()
        rest_key = self._consumer_key()
        rest_secret, _ = self._secret("consumer_secret", required=False)
        if (rest_key is None) != (rest_secret is None):
            self.problem(
                "consumer_key",
                "consumer_key and consumer_secret (or consumer_secret_file) go together: set "
                "both, from WooCommerce > Settings > Advanced > REST API, or neither",
            )
        elif rest_key is not None and url is None:
            self.problem("store_url", "is required with a REST API key: the API is reached there")
        if not self._ok or secret is None:
            return None
        return WooStore(name, secret, previous, url, set_in, previous_set_in, rest_key, rest_secret)

    def _consumer_key(self) -> SecretStr | None:
        value = self._entry.get("consumer_key")
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip().startswith("ck_"):
            self.problem("consumer_key", 'must be the REST API key in quotes, "ck_..."')
            return None
        return SecretStr(value.strip())

    def _name(self) -> str:
        value = self._entry.get("name")
        if value is None:
            self.problem("name", "is required; it ends the store's delivery URL, /webhook/<name>")
        elif not isinstance(value, str) or not _NAME.fullmatch(value):
            self.problem("name", f'must be {NAME_RULE}, in quotes, e.g. name = "shop-vn"')
        elif value == DEFAULT_STORE:
            self.problem(
                "name",
                '"default" is the store at /webhook, set by WOOCOMMERCE_WEBHOOK_SECRET and '
                "WOOCOMMERCE_STORE_URL; choose another name",
            )
        return value if isinstance(value, str) else ""

    def _secret(self, key: str, *, required: bool) -> tuple[SecretStr | None, str]:
        """The secret from `key` or `key`_file, and where it came from."""
        inline, file_key = self._entry.get(key), f"{key}_file"
        file = self._entry.get(file_key)
        if inline is not None and file is not None:
            self.problem(key, f"give {key} or {file_key}, not both")
            return None, ""
        if file is not None:
            return self._secret_file(file_key, file)
        if inline is None:
            if required:
                self.problem(
                    key,
                    f"is required: set {key}, or {file_key} with the path of a file holding it "
                    "(a Docker secret, e.g. /run/secrets/shop_vn_secret)",
                )
            return None, ""
        if not isinstance(inline, str) or not inline.strip():
            self.problem(
                key, "must be the webhooks' secret in quotes, as WooCommerce has it; not empty"
            )
            return None, ""
        return SecretStr(inline.strip()), "in BRIDGE_CONFIG"

    def _secret_file(self, key: str, value: object) -> tuple[SecretStr | None, str]:
        if not isinstance(value, str) or not value.strip():
            self.problem(key, 'must be a path in quotes, e.g. "/run/secrets/shop_vn_secret"')
            return None, ""
        # Relative to the configuration file, like paths in a compose file.
        path = self._folder / value.strip()
        try:
            secret = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            self.problem(
                key,
                f"cannot read {path} ({exc.strerror or exc}); check the path, and that the "
                "bridge's user may read it (uid 10001 in the container)",
            )
            return None, ""
        except UnicodeDecodeError:
            self.problem(key, f"{path} is not text; it must hold the secret alone, as UTF-8")
            return None, ""
        if not secret:
            self.problem(key, f"{path} is empty; put the webhooks' secret in it")
            return None, ""
        return SecretStr(secret), f"from {path}"

    def _store_url(self) -> URL | None:
        value = self._entry.get("store_url")
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(
                "store_url", 'must be the address in quotes, e.g. "https://shop.example.com"'
            )
            return None
        try:
            return store_url(value)
        except WooConfigError as exc:
            self.problem("store_url", str(exc))
            return None
