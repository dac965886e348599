"""`woo-bridge woo register|status`: set up and check the store's webhooks from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import aiohttp
from yarl import URL

from bridge.cli.common import EXIT_CONFIG, report_problems
from bridge.config import ConfigError, WooApiSettings, load_woo_api_settings
from bridge.config_stores import DEFAULT_STORE, WEBHOOK_PATH, read_stores
from bridge.woo.reachability import delivery_problem
from bridge.woo.rest import RegisterAction, WooApiError, WooClient, WooConfigError

NAME = "woo"
HELP = "create or check the store's webhooks through WooCommerce's REST API"
DESCRIPTION = """Create or check the store's webhooks through WooCommerce's REST API.

`register` creates one webhook per topic (reusing and re-activating existing ones);
`status` lists the store's webhooks and flags the disabled ones. The consumer key and
secret come from the options, a file, or WOOCOMMERCE_CONSUMER_KEY/_SECRET."""
EPILOG = """\
examples:
  woo-bridge woo register --store-url https://shop.example.com --key ck_... \
      --secret-file cs.txt --delivery-url https://bridge.example.com/webhook
  woo-bridge woo status --store-url https://shop.example.com --key ck_... --secret-file -
"""

REGISTER_EPILOG = """\
examples:
  woo-bridge woo register --store-url https://shop.example.com --key ck_... \\
      --secret-file cs.txt --delivery-url https://bridge.example.com/webhook
  woo-bridge woo register --store-url https://shop.example.com --secret-file - \\
      --delivery-url https://bridge.example.com/webhook --topics order.created,order.updated
"""
STATUS_EPILOG = """\
examples:
  woo-bridge woo status --store-url https://shop.example.com --key ck_... --secret-file cs.txt
  woo-bridge woo status --store-url https://shop.example.com \\
      --delivery-url https://bridge.example.com/webhook
"""

DEFAULT_TOPICS = "order.created,order.updated,product.created,product.updated,customer.created"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    register = actions.add_parser(
        "register",
        help="create the webhooks (idempotent: reuses and re-activates existing ones)",
        description="Create one webhook per topic that delivers to --delivery-url, signed with "
        "the bridge's webhook secret; existing ones are reused and re-activated.",
        epilog=REGISTER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _store_arguments(register)
    register.add_argument(
        "--delivery-url",
        help="the bridge's public webhook URL, e.g. https://bridge.example.com/webhook; "
        "default: BRIDGE_PUBLIC_URL followed by the store's path",
    )
    register.add_argument(
        "--topics", default=DEFAULT_TOPICS, help=f"comma-separated (default {DEFAULT_TOPICS})"
    )
    register.add_argument(
        "--force", action="store_true", help="register even a URL WooCommerce would refuse"
    )
    register.add_argument(
        "--webhook-secret-file",
        metavar="PATH",
        help="read the bridge's webhook secret from this file ('-': standard input); default: "
        "WOOCOMMERCE_WEBHOOK_SECRET, then the bridge's settings (.env, Docker secret)",
    )
    status = actions.add_parser(
        "status",
        help="list the store's webhooks; flag the disabled ones",
        description="List the store's webhooks with their topics, delivery URLs and states; "
        "flag the disabled ones.",
        epilog=STATUS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _store_arguments(status)
    status.add_argument(
        "--delivery-url",
        help="only the webhooks that deliver to this URL (default: BRIDGE_PUBLIC_URL followed "
        "by the store's path, when set)",
    )


def _store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="NAME",
        help="a store of BRIDGE_CONFIG's [[stores]] (its store_url and REST key), or default",
    )
    parser.add_argument(
        "--store-url", help="the shop's address, https://... (default: WOOCOMMERCE_STORE_URL)"
    )
    parser.add_argument("--key", help="REST API consumer key ck_... (or WOOCOMMERCE_CONSUMER_KEY)")
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument(
        "--secret-file",
        metavar="PATH",
        help="read the REST API consumer secret cs_... from this file ('-': standard input); "
        "default: WOOCOMMERCE_CONSUMER_SECRET (environment, .env or Docker secret)",
    )
    secret.add_argument(
        "--secret",
        help="the consumer secret itself; avoid it: every user of the host sees it in `ps`",
    )


def read_secret(path: str) -> str:
    """A secret from a file, or from standard input for '-'; surrounding blanks dropped.

    Raises WooConfigError naming the file, never with its content.
    """
    try:
        text = sys.stdin.readline() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise WooConfigError(f"cannot read the secret from {path}: {reason}") from None
    if not text.strip():
        raise WooConfigError(f"{'standard input' if path == '-' else path} holds no secret")
    return text.strip()


def run(args: argparse.Namespace) -> int:
    try:
        settings = load_woo_api_settings()
    except ConfigError as exc:
        report_problems(exc)
        return EXIT_CONFIG
    # Like the bridge: the environment, .env, Docker secrets and [[stores]]; arguments win.
    try:
        _store_defaults(args, settings)
        args.secret = _consumer_secret(args, settings)
    except ConfigError as exc:
        report_problems(exc)
        return EXIT_CONFIG
    except WooConfigError as exc:
        print(f"woo-bridge: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if not args.store_url:
        print(
            "woo-bridge: give the store: --store NAME, --store-url https://... or "
            "WOOCOMMERCE_STORE_URL",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    if args.action == "register" and not args.delivery_url:
        print(
            "woo-bridge: give --delivery-url https://bridge.example.com/webhook, or set "
            "BRIDGE_PUBLIC_URL (the address WooCommerce delivers to)",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    if not args.key or not args.secret:
        print(
            "Give the REST API key with WOOCOMMERCE_CONSUMER_KEY=ck_... and "
            "WOOCOMMERCE_CONSUMER_SECRET=cs_... (or --key ck_... --secret-file PATH). Create one"
            " in WooCommerce > Settings > Advanced > REST API with Read/Write permission.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    try:
        if args.action == "register":
            return asyncio.run(_register(args, settings))
        return asyncio.run(_status(args))
    except ConfigError as exc:
        report_problems(exc)
        return EXIT_CONFIG
    except WooConfigError as exc:
        print(f"woo-bridge: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except WooApiError as exc:
        print(f"woo-bridge: {exc}", file=sys.stderr)
        return 1


def _store_defaults(args: argparse.Namespace, settings: WooApiSettings) -> None:
    """Fill the store's address, REST key and delivery URL from the settings (or the
    [[stores]] entry --store names) where no argument gave them. Raises WooConfigError."""
    name, url, key, secret = DEFAULT_STORE, settings.woocommerce_store_url, None, None
    if settings.woocommerce_consumer_key is not None:
        key = settings.woocommerce_consumer_key.get_secret_value()
    if args.store not in (None, DEFAULT_STORE):
        stores = read_stores(settings.bridge_config) if settings.bridge_config else []
        entry = next((s for s in stores if s.name == args.store), None)
        if entry is None:
            names = ", ".join(s.name for s in stores) or "none in BRIDGE_CONFIG"
            raise WooConfigError(f"no store is named {args.store!r} (stores: {names})")
        name = entry.name
        url = str(entry.store_url) if entry.store_url else None
        key = entry.consumer_key.get_secret_value() if entry.consumer_key else None
        secret = entry.consumer_secret.get_secret_value() if entry.consumer_secret else None
    args.store_secret = secret
    args.store_url = args.store_url or url
    if args.key is None:
        args.key = key
    if not args.delivery_url and settings.bridge_public_url:
        path = WEBHOOK_PATH if name == DEFAULT_STORE else f"{WEBHOOK_PATH}/{name}"
        args.delivery_url = settings.bridge_public_url.rstrip("/") + path


def _consumer_secret(args: argparse.Namespace, settings: WooApiSettings) -> str | None:
    if args.secret_file:
        return read_secret(args.secret_file)
    if args.secret:
        print(
            "woo-bridge: warning: --secret shows the consumer secret to every user of this host "
            "(ps, shell history); prefer WOOCOMMERCE_CONSUMER_SECRET or --secret-file",
            file=sys.stderr,
        )
        return str(args.secret)
    if args.store_secret:
        return str(args.store_secret)  # from the [[stores]] entry --store names
    secret = settings.woocommerce_consumer_secret
    return secret.get_secret_value() if secret is not None else None


def webhook_secret(settings: WooApiSettings, delivery_url: str) -> str | None:
    """The secret the bridge verifies deliveries to `delivery_url` with.

    A URL ending in /webhook/<name> of a [[stores]] entry gets that store's secret; any
    other, WOOCOMMERCE_WEBHOOK_SECRET. Raises ConfigError if the file has mistakes.
    """
    parts = URL(delivery_url).path.rstrip("/").rsplit("/", 2)
    if settings.bridge_config is not None and len(parts) == 3 and f"/{parts[1]}" == WEBHOOK_PATH:
        for store in read_stores(settings.bridge_config):
            if store.name == parts[2]:
                return store.secret.get_secret_value()
    secret = settings.woocommerce_webhook_secret
    return secret.get_secret_value() if secret is not None else None


def _webhook_secret(args: argparse.Namespace, settings: WooApiSettings) -> str:
    """The secret the bridge verifies: from the file given, else from the bridge's settings
    (the environment, .env, a Docker secret, or the [[stores]] entry the URL names)."""
    if args.webhook_secret_file:
        return read_secret(args.webhook_secret_file)
    secret = webhook_secret(settings, args.delivery_url)
    if secret:
        return secret
    raise WooConfigError(
        "no webhook secret: set WOOCOMMERCE_WEBHOOK_SECRET (the secret the bridge verifies), "
        "give --webhook-secret-file PATH ('-' reads standard input), or name a store of "
        "BRIDGE_CONFIG's [[stores]] in the delivery URL (.../webhook/<name>) before registering"
    )


async def _register(args: argparse.Namespace, settings: WooApiSettings) -> int:
    secret = _webhook_secret(args, settings)
    problem = delivery_problem(args.delivery_url)
    if problem and not args.force:
        print(f"woo-bridge: {problem} (--force registers it anyway)", file=sys.stderr)
        return EXIT_CONFIG
    topics = [t.strip() for t in args.topics.split(",") if t.strip()]
    async with aiohttp.ClientSession() as session:
        client = WooClient(session, args.store_url, args.key, args.secret)
        results = await client.register(args.delivery_url, secret, topics)
    for result in results:
        print(f"{result.action.value:<12} #{result.webhook.id:<6} {result.topic}")
    created = sum(r.action is RegisterAction.CREATED for r in results)
    print(f"\n{len(results)} webhook(s) deliver to {args.delivery_url}; {created} new.")
    return 0


async def _status(args: argparse.Namespace) -> int:
    async with aiohttp.ClientSession() as session:
        client = WooClient(session, args.store_url, args.key, args.secret)
        hooks = await client.status(args.delivery_url)
    if not hooks:
        print("No webhooks" + (f" deliver to {args.delivery_url}." if args.delivery_url else "."))
        return 0
    for hook in sorted(hooks, key=lambda h: h.id):
        flag = "" if hook.delivers else "   <- not delivering"
        print(f"#{hook.id:<6} {hook.status:<9} {hook.topic:<24} {hook.delivery_url}{flag}")
    stopped = [h for h in hooks if not h.delivers]
    if stopped:
        print(
            f"\n{len(stopped)} webhook(s) do not deliver. WooCommerce disables a webhook after "
            "repeated failed deliveries; `woo-bridge woo register` re-activates them."
        )
        return 1
    return 0
