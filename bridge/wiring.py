"""Settings into objects: the one place (with app.py and the CLI) that reads Settings.

Feature packages take plain values and small option types; what each setting becomes is
decided here, so that no package below the app has to know the settings' names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import aiohttp
from telegram import BotCommand
from yarl import URL

from bridge import redact
from bridge.bot import menu as bot_menu
from bridge.bot.commands import COMMANDS
from bridge.bot.order_actions import ActionOptions
from bridge.bot.reach import Reach
from bridge.bot.runner import Connection, WebhookMode
from bridge.config import ConfigError, MessageSettings, Settings, StorageSettings
from bridge.config_stores import Stores
from bridge.queue.postgres import dsn
from bridge.queue.retention import Retention
from bridge.recovery.reconciler import ReconcileOptions, StoreLink
from bridge.render.i18n import BUILTIN_LANGUAGES
from bridge.render.renderer import Renderer, RenderOptions
from bridge.routing.digests import DigestPolicy
from bridge.routing.targets import Routes
from bridge.send.backoff import RetryPolicy
from bridge.send.ratelimit import Limits
from bridge.setup_check.runner import SetupTargets
from bridge.setup_check.store_check import StoreAccess
from bridge.setup_check.telegram_check import Place
from bridge.woo.rest import WooClient


def render_options(
    settings: MessageSettings,
    store_urls: Mapping[str, URL | None] | None = None,
    action_stores: Iterable[str] = (),
) -> RenderOptions:
    store = settings.woocommerce_store_url
    return RenderOptions(
        language=settings.bridge_language,
        timezone=settings.timezone,
        store_url=URL(store) if store else None,
        order_admin_urls=settings.woocommerce_order_admin_urls,
        currency=settings.woocommerce_currency,
        override_dir=settings.bridge_templates_dir,
        store_urls=dict(store_urls or {}),
        action_stores=frozenset(action_stores),
    )


def renderer(
    settings: MessageSettings,
    store_urls: Mapping[str, URL | None] | None = None,
    action_stores: Iterable[str] = (),
) -> Renderer:
    """`action_stores`: the stores whose orders carry status buttons (with a REST key)."""
    return Renderer(render_options(settings, store_urls, action_stores))


def telegram_connection(settings: Settings) -> Connection:
    return Connection(
        token=settings.telegram_bot_token.get_secret_value(),
        api_base_url=settings.telegram_api_base_url,
        timeout=settings.bridge_send_timeout_seconds,
        concurrency=settings.bridge_send_concurrency,
        poll_timeout=settings.bridge_poll_timeout_seconds,
        webhook=bool(settings.telegram_webhook_url),
        proxy=settings.proxy_url,
    )


def reach(settings: Settings) -> Reach:
    """How Telegram is reached, for failure lines: the proxy with its credentials masked."""
    proxy = settings.proxy_url
    return Reach(settings.telegram_api_base_url, redact.masked_url(proxy) if proxy else None)


def mask_secrets(secrets: redact.Secrets, settings: Settings, stores: Stores) -> None:
    """Mask every secret this bridge holds from here on."""
    secrets.add(
        settings.telegram_bot_token,
        settings.telegram_webhook_secret,
        settings.woocommerce_webhook_secret,
        settings.woocommerce_webhook_previous_secret,
        settings.woocommerce_consumer_secret,
        *redact.url_secrets(settings.proxy_url),
        *redact.environment_proxy_secrets(),
        *database_secrets(settings),
        *(secret for store in stores for secret in store.secrets()),
        *(secret for store in stores for secret in store.rest_secrets()),
    )


def database_secrets(settings: StorageSettings) -> list[str]:
    """BRIDGE_DATABASE_URL whole, as set and completed, and its password in every form."""
    try:
        complete = settings.database_url
    except ConfigError:
        complete = None  # the password file went away; reported where it is read
    given = settings.bridge_database_url
    found = dsn.secrets(complete) + dsn.secrets(given.get_secret_value() if given else None)
    return list(dict.fromkeys(found))


def webhook_mode(settings: Settings) -> WebhookMode | None:
    """Updates by webhook when both TELEGRAM_WEBHOOK_URL and its secret are set."""
    if settings.telegram_webhook_url and settings.telegram_webhook_secret:
        secret = settings.telegram_webhook_secret.get_secret_value()
        return WebhookMode(settings.telegram_webhook_url, secret)
    return None


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        base=settings.bridge_retry_base_seconds,
        cap=settings.bridge_retry_max_seconds,
        max_attempts=settings.bridge_retry_max_attempts,
        max_age=settings.bridge_retry_max_age_seconds,
    )


def limits(settings: Settings) -> Limits:
    return Limits(
        overall_per_second=settings.bridge_rate_overall_per_second,
        chat_interval=settings.bridge_rate_chat_interval_seconds,
        group_per_minute=settings.bridge_rate_group_per_minute,
        minute=settings.bridge_rate_group_window_seconds,
        second=settings.bridge_rate_overall_window_seconds,
    )


def digest_policy(settings: Settings) -> DigestPolicy | None:
    """The policy, or None when BRIDGE_DIGEST_TOPICS is empty (digests off)."""
    if not settings.bridge_digest_topics:
        return None
    return DigestPolicy(
        topics=settings.bridge_digest_topics,
        threshold=settings.bridge_digest_threshold,
        window=settings.bridge_digest_window_seconds,
    )


def retention(settings: Settings) -> Retention:
    return Retention(
        finished_days=settings.bridge_retention_days,
        dead_days=settings.bridge_dead_letter_retention_days,
        ledger_days=settings.bridge_report_retention_days,
        interval_seconds=settings.bridge_prune_interval_seconds,
    )


def reconcile_links(stores: Stores, routes: Routes | None = None) -> tuple[StoreLink, ...]:
    """The stores gap filling asks: those with a REST API key and an address."""
    links = []
    for store in stores:
        if store.consumer_key is None or store.consumer_secret is None or not store.store_url:
            continue
        links.append(
            StoreLink(
                name=store.name,
                store_url=str(store.store_url),
                consumer_key=store.consumer_key.get_secret_value(),
                consumer_secret=store.consumer_secret.get_secret_value(),
                path=store.path,
                expected_topics=tuple(routes.expected_topics(store.name)) if routes else (),
            )
        )
    return tuple(links)


def reconcile_options(settings: Settings) -> ReconcileOptions:
    return ReconcileOptions(
        interval=settings.bridge_reconcile_interval_seconds,
        public_url=settings.bridge_public_url,
        reactivate=settings.bridge_webhook_reactivate,
        alert_chat_id=settings.telegram_alert_chat_id,
    )


def setup_targets(settings: Settings, stores: Stores, routes: Routes) -> SetupTargets:
    """What the setup check asks about: every chat and forum topic the routes (and the alert
    chat) name, and every store with a REST API key."""
    places: dict[tuple[int, int | None], Place] = {}
    for route in routes.routes:
        key = (route.target.chat_id, route.target.thread_id)
        places.setdefault(key, Place(*key, f'route "{route.name}"'))
    alert = settings.telegram_alert_chat_id
    if alert is not None:
        places.setdefault((alert, None), Place(alert, None, "TELEGRAM_ALERT_CHAT_ID"))
    public = settings.bridge_public_url
    accesses = tuple(
        StoreAccess(
            name=link.name,
            store_url=link.store_url,
            consumer_key=link.consumer_key,
            consumer_secret=link.consumer_secret,
            delivery_url=public.rstrip("/") + link.path if public else None,
            expected_topics=link.expected_topics,
        )
        for link in reconcile_links(stores, routes)
    )
    return SetupTargets(tuple(places.values()), accesses)


def order_clients(
    session: aiohttp.ClientSession, stores: Stores, timeout: float
) -> dict[str, WooClient]:
    """A REST client per store with a key: what the status buttons change orders through."""
    return {
        link.name: WooClient(
            session, link.store_url, link.consumer_key, link.consumer_secret, timeout=timeout
        )
        for link in reconcile_links(stores)
    }


def action_options(settings: Settings) -> ActionOptions:
    return ActionOptions(
        staff=settings.telegram_admin_ids | settings.telegram_staff_ids,
        confirm_seconds=settings.bridge_order_confirm_seconds,
    )


def menus(renderer: Renderer) -> dict[str, list[BotCommand]]:
    """The command menu in each built-in language besides English."""
    return bot_menu.menus(
        COMMANDS, BUILTIN_LANGUAGES, lambda code: renderer.formatter(code).gettext
    )
