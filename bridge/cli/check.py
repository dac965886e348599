"""`woo-bridge check`: is the configuration usable, and does every template render?

It first prints the effective configuration (secrets masked, each value with where it came
from) and the stores with their delivery paths. Then each check runs on its own and reports
what it found, so that a wrong setting does not hide a broken template. Every problem says
what to do. The exit status is non-zero when any finding is an error; warnings name what
works but probably not as intended.

Over 300 lines because it is one command of independent checks, each a short function.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr
from yarl import URL

from bridge import wiring
from bridge.bot.runner import build_application
from bridge.cli.common import EXIT_CONFIG
from bridge.cli.database_check import database_findings
from bridge.config import (
    ConfigError,
    MessageSettings,
    Settings,
    load_message_settings,
    load_settings,
    setting_origins,
)
from bridge.config_file import ORIGINS, read_config_file
from bridge.config_routes import load_routes
from bridge.config_stores import DEFAULT_STORE, Stores, WooStore, load_stores
from bridge.queue.postgres import dsn
from bridge.redact import Secrets, masked_url
from bridge.render.i18n import BUILTIN_LANGUAGES, LOCALE_DIR, candidates, catalogue_codes
from bridge.render.renderer import DIGEST_TEMPLATE, Renderer, RenderOptions
from bridge.render.samples import sample_for
from bridge.render.templates import TemplateProblem, builtin_templates_dir, template_line
from bridge.routing.targets import Routes
from bridge.setup_check.findings import Finding, Level
from bridge.setup_check.runner import SetupTargets, run_check
from bridge.woo.validate import topic_problem

NAME = "check"
HELP = "check the configuration and every template (--online: Telegram and the stores too)"
DESCRIPTION = """Check the configuration and every template, then exit.

Prints the effective configuration (secrets masked, each value with its origin) and
the stores, then runs each check on its own: the queue's database (SQLite, or the
PostgreSQL server of BRIDGE_DATABASE_URL with its version, the replicas and the
leader), the stores, the templates. With --online it also asks Telegram
(the token, each chat and forum topic, the bot's rights, supergroup migrations) and
each store with a REST API key (the key, its permission, the webhooks delivering to
BRIDGE_PUBLIC_URL, WooCommerce's version); --send-test posts one short message to each
chat. Exits non-zero if any finding is an error; warnings name what works but
probably not as intended."""
EPILOG = """\
examples:
  woo-bridge check
  woo-bridge check --online --send-test
  BRIDGE_CONFIG=/etc/woo-bridge/bridge.toml woo-bridge check
  docker exec woo-bridge woo-bridge check
"""


@dataclass
class Context:
    """What the checks look at; loaded once, each part may be missing."""

    settings: Settings | None = None
    settings_problems: list[str] = field(default_factory=list)
    #: the message settings alone, which load even when the bot's settings do not
    messages: MessageSettings | None = None
    #: where each setting's value came from, by field name
    origins: dict[str, str] = field(default_factory=dict)
    stores: Stores | None = None
    routes: Routes | None = None
    #: what is wrong with the stores and routes of the BRIDGE_CONFIG file
    file_problems: list[str] = field(default_factory=list)

    @classmethod
    def load(cls) -> Context:
        context = cls()
        try:
            context.settings = load_settings()
        except ConfigError as exc:
            context.settings_problems = exc.problems
        # A problem here is reported by check_settings; the template checks then use defaults.
        with contextlib.suppress(ConfigError):
            context.messages = load_message_settings()
        with contextlib.suppress(ConfigError):
            context.origins = setting_origins()
        if context.settings is not None:
            context.load_file(context.settings)
        return context

    def load_file(self, settings: Settings) -> None:
        """The stores and the routes; each reports its problems even if the other has some."""
        try:
            self.stores = load_stores(settings)
            names = list(self.stores.names)
        except ConfigError as exc:
            self.file_problems += exc.problems
            names = _declared_stores(settings)
        try:
            self.routes = load_routes(settings, names)
        except ConfigError as exc:
            self.file_problems += exc.problems

    def renderer(self) -> Renderer:
        if self.messages is None:
            return Renderer(RenderOptions())
        return wiring.renderer(self.messages)


Check = Callable[[Context], list[Finding]]


def check_settings(context: Context) -> list[Finding]:
    """Every setting parses and every required one is set."""
    if context.settings_problems:
        return [Finding(Level.ERROR, problem) for problem in context.settings_problems]
    return [Finding(Level.OK, "the settings are valid")]


def check_stores(context: Context) -> list[Finding]:
    """The stores and routes of BRIDGE_CONFIG: secrets readable, names unique and known."""
    findings = [Finding(Level.ERROR, problem) for problem in context.file_problems]
    stores = context.stores
    if stores is None:
        return findings
    served = ", ".join(f"{store.name} at {store.path}" for store in stores)
    findings.append(Finding(Level.OK, f"{len(stores)} store(s): {served}"))
    seen: dict[str, str] = {}
    for store in stores:
        for secret in store.secrets():
            other = seen.setdefault(secret, store.name)
            if other != store.name:
                findings.append(
                    Finding(
                        Level.WARNING,
                        f"stores {other} and {store.name} share a secret, so a delivery signed "
                        "for one is also accepted at the other's path; give each store its own",
                    )
                )
        if store.previous_secret is not None:
            findings.append(
                Finding(
                    Level.WARNING,
                    f"store {store.name}: a previous secret is still accepted; once WooCommerce "
                    "signs with the new one (the log stops saying 'still signs with the "
                    f"previous secret'), remove {_previous_setting(store)} and restart",
                )
            )
    return findings


def check_templates(context: Context) -> list[Finding]:
    """Every template compiles, and names only filters, tests and templates that exist."""
    try:
        names = context.renderer().compile_all()
    except TemplateProblem as exc:
        return [Finding(Level.ERROR, problem) for problem in exc.problems]
    return [Finding(Level.OK, f"{len(names)} templates compile")]


#: what digest.html is checked with: a burst of product updates
SAMPLE_DIGEST: dict[str, Any] = {
    "topic": "product.updated",
    "count": 37,
    "names": ["Premium Quality", "Ship Your Idea", "Woo Single #1"],
    "minutes": 4,
}


def check_renders(context: Context) -> list[Finding]:
    """Every template renders a sample payload, in every language, into HTML Telegram takes."""
    renderer = context.renderer()
    try:
        names = renderer.compile_all()
    except TemplateProblem:
        return []  # check_templates reports it
    languages = list(dict.fromkeys((*BUILTIN_LANGUAGES, renderer.options.language)))
    findings = []
    count = 0
    for name in (n for n in names if not n.startswith("_")):
        for language in languages:
            count += 1
            try:
                if name == DIGEST_TEMPLATE:
                    renderer.render_digest(**SAMPLE_DIGEST, language=language)
                else:
                    renderer.render_with(name, sample_for(name), language=language)
            except Exception as exc:
                # Whatever the template raises is what staff need to see, with its line.
                where = template_line(exc) or name
                findings.append(
                    Finding(Level.ERROR, f"{where} ({language}): {type(exc).__name__}: {exc}")
                )
    if not findings:
        findings.append(
            Finding(Level.OK, f"{count} renders of sample payloads are valid Telegram HTML")
        )
    return findings


def check_overrides(context: Context) -> list[Finding]:
    """Templates in BRIDGE_TEMPLATES_DIR that nothing would ever use."""
    folder = context.messages.bridge_templates_dir if context.messages else None
    if folder is None:
        return []
    builtin = {path.name for path in builtin_templates_dir().glob("*.html")}
    findings = []
    for path in sorted(folder.glob("*.html")):
        name = path.name
        topic = name.removesuffix(".html")
        if name in builtin or name.startswith("_") or topic_problem(topic) is None:
            continue
        findings.append(
            Finding(
                Level.WARNING,
                f"{path}: no topic is called {topic!r} and no built-in template has this "
                f"name, so it is never used; {topic_problem(topic)}",
            )
        )
    return findings


def check_links(context: Context) -> list[Finding]:
    """The "Open in admin" button of each store: present, and a link Telegram accepts."""
    if context.stores is None:
        if context.messages is None:
            return []
        url = context.messages.woocommerce_store_url
        return _link_findings(DEFAULT_STORE, URL(url) if url else None)
    findings = [f for store in context.stores for f in _link_findings(store.name, store.store_url)]
    if (
        context.messages
        and context.messages.woocommerce_store_url
        and not context.stores.get(DEFAULT_STORE)
    ):
        findings.append(
            Finding(
                Level.WARNING,
                "WOOCOMMERCE_STORE_URL is set, but no store is served at /webhook "
                "(WOOCOMMERCE_WEBHOOK_SECRET is not set), so no message uses it; give each "
                "[[stores]] table its store_url",
            )
        )
    return findings


def _link_findings(store: str, url: URL | None) -> list[Finding]:
    default = store == DEFAULT_STORE
    setting = "WOOCOMMERCE_STORE_URL" if default else f"store {store}, store_url"
    if url is None:
        fix = (
            "set it to the store's address, e.g. https://shop.example.com"
            if default
            else 'add store_url = "https://..." to its [[stores]] table'
        )
        subject = (
            "WOOCOMMERCE_STORE_URL is not set" if default else f"store {store} has no store_url"
        )
        return [
            Finding(Level.WARNING, f'{subject}: messages have no "Open in admin" button; {fix}')
        ]
    host = url.host or ""
    if "." not in host or host.startswith(("localhost", "127.")):
        return [
            Finding(
                Level.WARNING,
                f"{setting}: Telegram refuses buttons that link to {host}; "
                "messages are sent without them. Use the store's public address",
            )
        ]
    prefix = "" if default else f"store {store}: "
    return [Finding(Level.OK, f"{prefix}buttons link to {url}")]


def check_language(context: Context) -> list[Finding]:
    """A language without a catalogue works, in English; say so."""
    if context.messages is None:
        return []
    language = context.messages.bridge_language
    folders = [builtin_templates_dir() / LOCALE_DIR]
    if context.messages.bridge_templates_dir is not None:
        folders.insert(0, context.messages.bridge_templates_dir / LOCALE_DIR)
    available = catalogue_codes(folders) | {"en"}
    if not set(candidates(language, available)) & available:
        return [
            Finding(
                Level.WARNING,
                f"BRIDGE_LANGUAGE={language}: no translation exists, so messages are in "
                f"English (with {language} money and dates); built in: "
                f"{', '.join(BUILTIN_LANGUAGES)}",
            )
        ]
    return [Finding(Level.OK, f"messages are in {language}")]


def check_database(context: Context) -> list[Finding]:
    """The queue's database: the backend, its versions, the replicas and the leader."""
    if context.settings is None:
        return []  # check_settings reports why
    return database_findings(context.settings)


#: run in this order; each reports on its own
CHECKS: tuple[Check, ...] = (
    check_settings,
    check_database,
    check_stores,
    check_templates,
    check_renders,
    check_overrides,
    check_links,
    check_language,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`check` reads the same settings as `serve`; --online also asks Telegram and the stores."""
    parser.add_argument(
        "--online",
        action="store_true",
        help="also call Telegram (the token, each chat and forum topic, the bot's rights) and "
        "each store with a REST API key (the key, its permission, the webhooks, the version)",
    )
    parser.add_argument(
        "--send-test",
        action="store_true",
        help="with --online: post one short test message to each chat and forum topic",
    )


def run(args: argparse.Namespace) -> int:
    context = Context.load()
    for line in describe(context):
        print(line)
    findings = run_checks(context)
    if getattr(args, "online", False) or getattr(args, "send_test", False):
        findings += online_findings(context, send_test=args.send_test)
    # The findings are built from safe parts; masking them again is the last line of
    # defence, as the log filter is for the running bridge.
    secrets = Secrets()
    if context.settings is not None and context.stores is not None:
        wiring.mask_secrets(secrets, context.settings, context.stores)
    width = max(len(level) for level in Level)
    for finding in findings:
        print(f"{finding.level:<{width}}  {secrets.scrub(finding.text)}")
    errors = sum(f.level is Level.ERROR for f in findings)
    warnings = sum(f.level is Level.WARNING for f in findings)
    print(f"{errors} error(s), {warnings} warning(s)")
    return EXIT_CONFIG if errors else 0


def online_findings(context: Context, *, send_test: bool) -> list[Finding]:
    """What Telegram and the stores say of this configuration (docs/setup-check.md)."""
    settings = context.settings
    if settings is None or context.stores is None or context.routes is None:
        return [Finding(Level.ERROR, "online check skipped: fix the problems above first")]
    targets = wiring.setup_targets(settings, context.stores, context.routes)
    return asyncio.run(_online(settings, targets, send_test))


async def _online(settings: Settings, targets: SetupTargets, send_test: bool) -> list[Finding]:
    application, _ = build_application(wiring.telegram_connection(settings))
    bot = application.bot
    try:
        return await run_check(bot, targets, wiring.reach(settings), send_test=send_test)
    finally:
        with contextlib.suppress(Exception):
            await bot.shutdown()


def run_checks(context: Context, checks: tuple[Check, ...] = CHECKS) -> list[Finding]:
    return [finding for check in checks for finding in check(context)]


def describe(context: Context) -> list[str]:
    """The effective configuration and the stores, secrets masked, for the shop owner."""
    settings = context.settings
    if settings is None:
        return ["configuration: shown once the settings below are fixed", ""]
    lines = [f"configuration (each value's origin, highest first: {', '.join(ORIGINS)}):"]
    values = {name: getattr(settings, name) for name in Settings.model_fields}
    width = max(len(name) for name in values)
    for name, value in values.items():
        origin = context.origins.get(name, "?")
        lines.append(f"  {name.upper():<{width}} = {shown(name, value)}  ({origin})")
    lines.append("")
    if context.stores is None:
        lines += ["stores: shown once the problems below are fixed", ""]
        return lines
    lines.append(
        "stores (the delivery URL to give WooCommerce: the bridge's public https:// address, "
        "then the path):"
    )
    width = max((len(store.name) for store in context.stores), default=0)
    for store in context.stores:
        lines.append(f"  {store.name:<{width}}  {store.path:<{width + 9}}  {_store_line(store)}")
        lines.append(f"  {'':<{width}}  {'':<{width + 9}}  {_gaps_line(store)}")
    if not len(context.stores):
        lines.append("  none: set WOOCOMMERCE_WEBHOOK_SECRET, or add [[stores]] to BRIDGE_CONFIG")
    lines.append("")
    return lines


def shown(name: str, value: object) -> str:
    """A setting's value as it may be printed: a secret is masked, whatever its name."""
    if isinstance(value, SecretStr):
        if name == "telegram_bot_token":
            # The part before the colon is the bot's user id, which is public.
            return f"{value.get_secret_value().partition(':')[0]}:****"
        if name == "bridge_database_url":
            # Where the database is helps; only its password is secret.
            return dsn.target(value.get_secret_value()).shown()
        if name == "telegram_proxy_url":
            # Where the proxy is helps; only its credentials are secret.
            return masked_url(value.get_secret_value())
        return "****"
    if value is None:
        return "(not set)"
    if isinstance(value, frozenset):
        return ",".join(sorted(str(v) for v in value)) or "(none)"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "(none)"
    return str(value)


def _store_line(store: WooStore) -> str:
    secret = f"secret: {store.set_in} ****"
    if store.previous_secret is not None:
        secret += f", previous secret: {store.previous_set_in} **** (rotating)"
    url = f"buttons: {store.store_url}" if store.store_url else "no buttons (no store URL)"
    return f"{url}; {secret}"


def _gaps_line(store: WooStore) -> str:
    """What the store's REST API key does, or would do."""
    if store.consumer_key is not None and store.consumer_secret is not None:
        return "gap filling: on (REST API key ****)"
    return (
        "no gap filling: a REST API key (read) would recover the orders WooCommerce fails to "
        "deliver; read/write also keeps its webhooks active (docs/reconciliation.md)"
    )


def _previous_setting(store: WooStore) -> str:
    if store.name == DEFAULT_STORE:
        return "WOOCOMMERCE_WEBHOOK_PREVIOUS_SECRET"
    return "previous_secret (or previous_secret_file) from its [[stores]] table"


def _declared_stores(settings: Settings) -> list[str]:
    """The store names the configuration declares, even when a store has a problem."""
    names = [DEFAULT_STORE] if settings.woocommerce_webhook_secret is not None else []
    if settings.bridge_config is not None:
        with contextlib.suppress(ConfigError):
            entries = read_config_file(settings.bridge_config).get("stores")
            if isinstance(entries, list):
                names += [e["name"] for e in entries if isinstance(e, dict) and "name" in e]
    return [str(name) for name in names]
