"""`woo-bridge woo register|status`: set up and check the store's webhooks from the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from pathlib import Path

import aiohttp

from bridge.cli.common import EXIT_CONFIG
from bridge.config import ConfigError, load_webhook_secret
from bridge.woo.reachability import delivery_problem
from bridge.woo.rest import RegisterAction, WooApiError, WooClient, WooConfigError

NAME = "woo"
HELP = "create or check the store's webhooks through WooCommerce's REST API"

DEFAULT_TOPICS = "order.created,order.updated,product.created,product.updated,customer.created"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    register = actions.add_parser(
        "register", help="create the webhooks (idempotent: reuses and re-activates existing ones)"
    )
    _store_arguments(register)
    register.add_argument(
        "--delivery-url",
        required=True,
        help="the bridge's public webhook URL, e.g. https://bridge.example.com/webhook",
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
    status = actions.add_parser("status", help="list the store's webhooks; flag the disabled ones")
    _store_arguments(status)
    status.add_argument("--delivery-url", help="only the webhooks that deliver to this URL")


def _store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store-url", required=True, help="the shop's address, https://...")
    parser.add_argument(
        "--key",
        default=os.environ.get("WOOCOMMERCE_CONSUMER_KEY"),
        help="REST API consumer key ck_... (or WOOCOMMERCE_CONSUMER_KEY)",
    )
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument(
        "--secret-file",
        metavar="PATH",
        help="read the REST API consumer secret cs_... from this file ('-': standard input); "
        "default: WOOCOMMERCE_CONSUMER_SECRET",
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
        args.secret = _consumer_secret(args)
    except WooConfigError as exc:
        print(f"woo-bridge: {exc}", file=sys.stderr)
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
        return asyncio.run(_register(args) if args.action == "register" else _status(args))
    except WooConfigError as exc:
        print(f"woo-bridge: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except WooApiError as exc:
        print(f"woo-bridge: {exc}", file=sys.stderr)
        return 1


def _consumer_secret(args: argparse.Namespace) -> str | None:
    if args.secret_file:
        return read_secret(args.secret_file)
    if args.secret:
        print(
            "woo-bridge: warning: --secret shows the consumer secret to every user of this host "
            "(ps, shell history); prefer WOOCOMMERCE_CONSUMER_SECRET or --secret-file",
            file=sys.stderr,
        )
        return str(args.secret)
    return os.environ.get("WOOCOMMERCE_CONSUMER_SECRET")


def _webhook_secret(args: argparse.Namespace) -> str:
    """The secret the bridge verifies: from the file given, the variable, or the settings."""
    if args.webhook_secret_file:
        return read_secret(args.webhook_secret_file)
    secret = os.environ.get("WOOCOMMERCE_WEBHOOK_SECRET", "")
    if secret:
        return secret
    with contextlib.suppress(ConfigError):
        # The bridge's own settings: .env, a Docker secret or the BRIDGE_CONFIG file.
        configured = load_webhook_secret()
        if configured:
            return configured
    raise WooConfigError(
        "no webhook secret: set WOOCOMMERCE_WEBHOOK_SECRET (the secret the bridge verifies) "
        "or give --webhook-secret-file PATH ('-' reads standard input) before registering"
    )


async def _register(args: argparse.Namespace) -> int:
    secret = _webhook_secret(args)
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
