"""Links into the store's admin, and the "Open in admin" button that carries them.

Orders have two admin screens. The classic one, post.php?post=ID&action=edit, works on every
store: a store that keeps orders in HPOS tables answers it with a redirect to its own screen
(WooCommerce's PostsRedirectionController). The HPOS one, admin.php?page=wc-orders&action=
edit&id=ID, saves that redirect but does not exist on stores that keep orders as posts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal

from yarl import URL

from bridge.payloads import Payload, PayloadKind

OrderAdminUrls = Literal["classic", "hpos"]

# WordPress post types of the resources that live in wp_posts (orders only in classic mode).
_POST_TYPES = {"order": "shop_order", "product": "product", "coupon": "shop_coupon"}


def _admin(store: URL, page: str, query: Mapping[str, str | int]) -> str:
    return str((store / "wp-admin" / page).with_query(dict(query)))


def _post_id(payload: Payload) -> int | None:
    """The id to open: a variation is edited on its parent product's screen."""
    data = payload.data
    parent = _as_id(data.get("parent_id"))
    if payload.resource == "product" and data.get("type") == "variation" and parent:
        return parent
    return _as_id(payload.resource_id)


def _as_id(value: object) -> int | None:
    """A positive id, from a number or a string of digits; None for anything else."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def admin_url(payload: Payload, store: URL | None, orders: OrderAdminUrls = "classic") -> str:
    """The admin page for what `payload` is about; "" when there is none worth opening.

    For a deletion (WooCommerce moves the item to the trash) that is the trash, where it can be
    restored; deleted customers are gone for good, so they get no link.
    """
    if store is None or payload.resource not in ("order", "product", "coupon", "customer"):
        return ""
    if payload.kind is PayloadKind.DELETED or payload.event == "deleted":
        if payload.resource == "customer":
            return ""
        if payload.resource == "order" and orders == "hpos":
            return _admin(store, "admin.php", {"page": "wc-orders", "status": "trash"})
        query = {"post_status": "trash", "post_type": _POST_TYPES[payload.resource]}
        return _admin(store, "edit.php", query)
    if payload.kind is not PayloadKind.RESOURCE:
        return ""
    post_id = _post_id(payload)
    if post_id is None:
        return ""
    if payload.resource == "customer":
        return _admin(store, "user-edit.php", {"user_id": post_id})
    if payload.resource == "order" and orders == "hpos":
        return _admin(store, "admin.php", {"page": "wc-orders", "action": "edit", "id": post_id})
    return _admin(store, "post.php", {"post": post_id, "action": "edit"})


def keyboard(buttons: list[tuple[str, str]]) -> str | None:
    """An inline keyboard of URL buttons, one per row, as the JSON Telegram takes."""
    rows = [[{"text": label, "url": url}] for label, url in buttons if url]
    return json.dumps({"inline_keyboard": rows}, ensure_ascii=False) if rows else None


def without_links(markup: str | None) -> str | None:
    """`markup` without its URL buttons; None if nothing else is left, or nothing went."""
    if not markup:
        return None
    rows = json.loads(markup).get("inline_keyboard", [])
    kept = [[b for b in row if "url" not in b] for row in rows]
    kept = [row for row in kept if row]
    if not kept or kept == rows:
        return None
    return json.dumps({"inline_keyboard": kept}, ensure_ascii=False)
