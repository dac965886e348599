"""The store half of the setup check: the REST API key, its permission, the webhooks that
deliver to this bridge and their status, and WooCommerce's version.

WooClient's errors never hold the consumer secret, so their text may be shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

from bridge.recovery import watchdog
from bridge.setup_check.findings import Finding, error, ok, warning
from bridge.woo.rest import Webhook, WooApiError, WooClient


@dataclass(frozen=True)
class StoreAccess:
    """One store with a REST API key, and where its webhooks should deliver."""

    name: str
    store_url: str
    consumer_key: str
    consumer_secret: str
    #: BRIDGE_PUBLIC_URL followed by the store's path; None when the public URL is not set
    delivery_url: str | None
    expected_topics: Sequence[str] = ()


async def check_store(session: aiohttp.ClientSession, store: StoreAccess) -> list[Finding]:
    """The store's findings; the first refusal ends them (the rest would say the same)."""
    client = WooClient(
        session, store.store_url, store.consumer_key, store.consumer_secret, timeout=15.0
    )
    where = f"store {store.name} ({store.store_url})"
    try:
        hooks = await client.list_webhooks()
    except WooApiError as exc:
        return [error(_refused(where, exc))]
    findings = [ok(f"{where}: the REST API key works")]
    try:
        writes = await client.can_write()
    except WooApiError as exc:
        writes = None
        findings.append(warning(f"{where}: cannot tell whether the key may write ({exc})"))
    if writes is False:
        findings.append(
            warning(
                f"{where}: the REST API key is Read only: gap filling works, but disabled "
                "webhooks cannot be set active again; give the key Read/Write"
            )
        )
    elif writes:
        findings.append(ok(f"{where}: the REST API key may read and write"))
    findings += _webhooks(where, store, hooks)
    try:
        version = await client.version()
    except WooApiError as exc:
        findings.append(warning(f"{where}: cannot read WooCommerce's version ({exc})"))
    else:
        findings.append(ok(f"{where}: WooCommerce {version or '(version not told)'}"))
    return findings


def _refused(where: str, exc: WooApiError) -> str:
    if exc.code == "html" or exc.status not in (401, 403):
        return f"{where}: {exc}"  # the client's own line says what answered and what to do
    if exc.status == 401:
        return (
            f"{where}: the REST API key was refused ({exc.wc_message or 'HTTP 401'}); create a "
            "key in WooCommerce > Settings > Advanced > REST API and set it again"
        )
    return (
        f"{where}: the key's user may not manage WooCommerce ({exc.wc_message or 'HTTP 403'}); "
        "create the key for an Administrator or a Shop Manager"
    )


def _webhooks(where: str, store: StoreAccess, hooks: list[Webhook]) -> list[Finding]:
    if store.delivery_url is None:
        return [
            warning(
                f"{where}: BRIDGE_PUBLIC_URL is not set, so which webhooks deliver to this "
                "bridge cannot be told; set it to the bridge's public https:// address"
            )
        ]
    mine = watchdog.ours(hooks, store.delivery_url)
    findings = []
    for hook in mine:
        if hook.status == "disabled":
            findings.append(
                error(
                    f"{where}: webhook #{hook.id} ({hook.topic}) is disabled (WooCommerce turns "
                    "a webhook off after repeated failed deliveries); set it Active in "
                    "WooCommerce > Settings > Advanced > Webhooks"
                )
            )
        elif hook.status == "paused":
            findings.append(
                warning(
                    f"{where}: webhook #{hook.id} ({hook.topic}) is paused and delivers "
                    "nothing; set it Active if the bridge should hear it"
                )
            )
    for topic in watchdog.missing_topics(mine, store.expected_topics):
        findings.append(
            error(
                f"{where}: the routes expect {topic}, but no active webhook delivers it to "
                f"{store.delivery_url}; run woo-bridge woo register"
            )
        )
    active = sorted({h.topic for h in mine if h.delivers})
    if active:
        findings.append(ok(f"{where}: active webhooks deliver here: {', '.join(active)}"))
    elif not findings:
        findings.append(
            error(
                f"{where}: no webhook delivers to {store.delivery_url}; run woo-bridge woo register"
            )
        )
    return findings
