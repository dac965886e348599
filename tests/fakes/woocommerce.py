"""A fake WooCommerce store that serves ``/wp-json/wc/v3/webhooks`` and ``/orders``, for tests
and local demos.

It answers the way WooCommerce does (DELIVERY.md section 7; ``WC_REST_Webhooks_V1_Controller``
and ``WC_REST_Authentication``): paging headers, topic and URL checks with WooCommerce's error
codes, secrets kept but never returned, and API keys accepted by Basic auth or
``consumer_key``/``consumer_secret`` only over TLS, by an OAuth 1.0a signature over plain http.
Orders are listed as ``GET /orders`` lists them (REST.md section 2): ``modified_after`` and
``modified_before`` exclusive, read as GMT only with ``dates_are_gmt=true`` (otherwise in the
site's timezone, ``site_offset_hours``), ``orderby=modified``/``order``, ``per_page`` 1-100,
``X-WP-Total``/``X-WP-TotalPages``. ``fail_status`` makes every API request fail (with a
security plugin's HTML page when ``fail_html``). It delivers nothing: no ping, no payloads.

Run ``python -m tests.fakes.woocommerce`` for a store on http://127.0.0.1:8081.
"""

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import math
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import web
from aiohttp.typedefs import Handler

# The fake's own rule, from the newest wc_is_webhook_valid_topic() (DELIVERY.md section 6),
# written out as a list rather than taken from the bridge's check: the default topics that
# deliver, and action.woocommerce_* / action.wc_* hooks but three.
VALID_TOPICS = frozenset(
    f"{resource}.{event}"
    for resource in ("coupon", "customer", "order", "product")
    for event in ("created", "updated", "deleted", "restored")
) - {"customer.restored"} | {"product.published"}
FORBIDDEN_ACTIONS = frozenset(
    {
        "action.woocommerce_login_credentials",
        "action.woocommerce_product_csv_importer_check_import_file_path",
        "action.woocommerce_webhook_should_deliver",
    }
)

PREFIX = "/wp-json/wc/v3"
STATUSES = ("active", "paused", "disabled")
_NONCE_WINDOW = 15 * 60  # WooCommerce accepts timestamps and remembers nonces this long


@dataclass
class StoredWebhook:
    id: int
    name: str
    status: str
    topic: str
    delivery_url: str
    secret: str
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_json(self) -> dict[str, Any]:
        """Render as WooCommerce does: everything but the secret."""
        resource, _, event = self.topic.partition(".")
        stamp = self.created.strftime("%Y-%m-%dT%H:%M:%S")
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "topic": self.topic,
            "resource": resource,
            "event": event,
            "hooks": [],
            "delivery_url": self.delivery_url,
            "date_created": stamp,
            "date_created_gmt": stamp,
            "date_modified": stamp,
            "date_modified_gmt": stamp,
        }


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    #: How the request authenticated: "basic", "query", "oauth1", or None if it did not.
    auth: str | None


@dataclass
class FakeStore:
    """The store's webhooks, its one REST API key, and every request it received."""

    consumer_key: str = field(default_factory=lambda: "ck_" + secrets.token_hex(20))
    consumer_secret: str = field(default_factory=lambda: "cs_" + secrets.token_hex(20))
    #: The key's permission: "read", "write" or "read_write".
    permissions: str = "read_write"
    #: False to drop X-WP-Total/X-WP-TotalPages, as some caches and proxies do.
    paging_headers: bool = True
    webhooks: dict[int, StoredWebhook] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    used_nonces: set[str] = field(default_factory=set)
    #: orders by id, each the REST resource as GET /orders/<id> returns it
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: the site's timezone, hours from UTC: dates without dates_are_gmt are read in it
    site_offset_hours: int = 0
    #: answer every API request with this HTTP status (None: answer normally)
    fail_status: int | None = None
    #: with fail_status, answer with an HTML page, as a security plugin or a proxy does
    fail_html: bool = False
    #: WooCommerce's version, as GET /system_status tells it in environment.version
    version: str = "9.4.2"

    #: order notes by order id, as POST /orders/<id>/notes stored them
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: seconds every API answer waits (longer than the client's timeout: it times out)
    delay: float = 0.0

    def put_order(self, order: dict[str, Any]) -> None:
        """Store an order as the shop saved it (its date_modified_gmt as given)."""
        self.orders[int(order["id"])] = dict(order)

    def add_webhook(
        self,
        topic: str,
        delivery_url: str,
        *,
        name: str = "",
        status: str = "active",
        secret: str = "",
    ) -> StoredWebhook:
        """Store a webhook directly, as if an admin had made it; no checks."""
        hook_id = max(self.webhooks, default=0) + 1
        hook = StoredWebhook(
            hook_id, name or f"Webhook {hook_id}", status, topic, delivery_url, secret
        )
        self.webhooks[hook_id] = hook
        return hook

    def calls(self, method: str) -> list[RecordedRequest]:
        """The recorded requests with this HTTP method."""
        return [r for r in self.requests if r.method == method]


STORE = web.AppKey("woocommerce_store", FakeStore)


def create_app(store: FakeStore) -> web.Application:
    """Build the fake store's web application around ``store``."""
    app = web.Application(middlewares=[_authenticate])
    app[STORE] = store
    app.router.add_get(f"{PREFIX}/webhooks", list_webhooks)
    app.router.add_post(f"{PREFIX}/webhooks", create_webhook)
    app.router.add_put(PREFIX + r"/webhooks/{id:\d+}", update_webhook)
    app.router.add_post(f"{PREFIX}/webhooks/batch", batch_webhooks)
    app.router.add_get(f"{PREFIX}/system_status", system_status)
    app.router.add_get(f"{PREFIX}/orders", list_orders)
    app.router.add_get(PREFIX + r"/orders/{id:\d+}", get_order)
    app.router.add_put(PREFIX + r"/orders/{id:\d+}", update_order)
    app.router.add_post(PREFIX + r"/orders/{id:\d+}/notes", add_note)
    # WordPress answers unknown REST routes with JSON; paths outside /wp-json get a plain 404.
    app.router.add_route("*", "/wp-json/{tail:.*}", no_route)
    return app


async def list_webhooks(request: web.Request) -> web.Response:
    """GET /webhooks: newest first, paged, filtered by status."""
    store = request.app[STORE]
    status = request.query.get("status", "all")
    per_page = _int_param(request, "per_page", 10)
    page = _int_param(request, "page", 1)
    if status not in (*STATUSES, "all") or not 1 <= per_page <= 100 or page < 1:
        return _error(400, "rest_invalid_param", "Invalid parameter(s): status, per_page, page")
    hooks = [h for h in store.webhooks.values() if status in ("all", h.status)]
    hooks.sort(key=lambda h: h.id, reverse=True)
    chunk = hooks[(page - 1) * per_page : page * per_page]
    response = web.json_response([h.to_json() for h in chunk])
    if store.paging_headers:
        response.headers["X-WP-Total"] = str(len(hooks))
        response.headers["X-WP-TotalPages"] = str(math.ceil(len(hooks) / per_page))
    return response


async def create_webhook(request: web.Request) -> web.Response:
    """POST /webhooks: always active, a random secret when none is given."""
    store = request.app[STORE]
    body = await _json_body(request)
    topic, url = str(body.get("topic") or ""), str(body.get("delivery_url") or "")
    if not topic or not _valid_topic(topic):
        return _error(400, "woocommerce_rest_shop_webhook_invalid_topic", _BAD_TOPIC)
    if not _valid_url(url):
        return _error(400, "woocommerce_rest_shop_webhook_invalid_delivery_url", _BAD_URL)
    # WooCommerce ignores a status sent on create: new webhooks are always active.
    hook = store.add_webhook(
        topic,
        url,
        name=str(body.get("name") or f"Webhook created on {datetime.now(UTC):%b %d, %Y}"),
        secret=str(body.get("secret") or secrets.token_urlsafe(37)),
    )
    return web.json_response(hook.to_json(), status=201)


async def update_webhook(request: web.Request) -> web.Response:
    """PUT /webhooks/<id>: change name, topic, delivery_url, secret or status."""
    store = request.app[STORE]
    hook = store.webhooks.get(int(request.match_info["id"]))
    if hook is None:
        return _error(400, "woocommerce_rest_shop_webhook_invalid_id", "ID is invalid.")
    body = await _json_body(request)
    topic, url, status = body.get("topic"), body.get("delivery_url"), body.get("status")
    if topic and not _valid_topic(str(topic)):
        return _error(400, "woocommerce_rest_shop_webhook_invalid_topic", _BAD_TOPIC)
    if url and not _valid_url(str(url)):
        return _error(400, "woocommerce_rest_shop_webhook_invalid_delivery_url", _BAD_URL)
    if status and status not in STATUSES:
        return _error(400, "woocommerce_rest_shop_webhook_invalid_status", "Status is invalid.")
    # WooCommerce skips empty values rather than clearing the field.
    hook.topic = str(topic or hook.topic)
    hook.delivery_url = str(url or hook.delivery_url)
    hook.status = str(status or hook.status)
    hook.secret = str(body.get("secret") or hook.secret)
    hook.name = str(body.get("name") or hook.name)
    return web.json_response(hook.to_json())


async def batch_webhooks(request: web.Request) -> web.Response:
    """POST /webhooks/batch: a write (the key needs write permission); this fake takes only an
    empty batch, which changes nothing, and answers as WooCommerce does: one key per action
    asked for, none here (PHP's empty array)."""
    body = await _json_body(request)
    if any(body.get(action) for action in ("create", "update", "delete")):
        return _error(400, "fake_not_supported", "This fake takes only empty batches.")
    return web.json_response([])


async def system_status(request: web.Request) -> web.Response:
    """GET /system_status: the part of it the bridge reads (environment.version)."""
    store = request.app[STORE]
    environment = {"home_url": "https://shop.example.com", "version": store.version}
    return web.json_response({"environment": environment, "active_plugins": []})


async def list_orders(request: web.Request) -> web.Response:
    """GET /orders: filtered by modification date (exclusive bounds), sorted, paged."""
    store = request.app[STORE]
    per_page = _int_param(request, "per_page", 10)
    page = _int_param(request, "page", 1)
    if not 1 <= per_page <= 100 or page < 1:
        return _error(400, "rest_invalid_param", "Invalid parameter(s): per_page, page")
    gmt = request.query.get("dates_are_gmt", "false") in ("true", "1")
    bounds = {}
    for name in ("modified_after", "modified_before"):
        value = request.query.get(name)
        if value is None:
            continue
        parsed = _parse_date(value)
        if parsed is None:
            return _error(400, "rest_invalid_param", f"Invalid parameter(s): {name}")
        # Without dates_are_gmt the value is compared with the site's local dates.
        bounds[name] = parsed if gmt else parsed - _hours(store.site_offset_hours)
    wanted = request.query.get("status", "any").split(",")
    found = [
        order
        for order in store.orders.values()
        if order.get("status") not in ("trash", "auto-draft")
        and ("any" in wanted or order.get("status") in wanted)
        and ("modified_after" not in bounds or _modified(order) > bounds["modified_after"])
        and ("modified_before" not in bounds or _modified(order) < bounds["modified_before"])
    ]
    if request.query.get("orderby") == "modified":
        found.sort(key=lambda o: (_modified(o), int(o["id"])))
    else:
        found.sort(key=lambda o: (str(o.get("date_created_gmt", "")), int(o["id"])))
    if request.query.get("order", "desc") == "desc":
        found.reverse()
    chunk = found[(page - 1) * per_page : page * per_page]
    response = web.json_response(chunk)
    if store.paging_headers:
        response.headers["X-WP-Total"] = str(len(found))
        response.headers["X-WP-TotalPages"] = str(math.ceil(len(found) / per_page))
    return response


async def get_order(request: web.Request) -> web.Response:
    """GET /orders/<id>."""
    order = request.app[STORE].orders.get(int(request.match_info["id"]))
    if order is None:
        return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
    return web.json_response(order)


#: wc_get_order_statuses() of a plain store, without the wc- prefix
ORDER_STATUSES = (
    "pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed",
    "checkout-draft",
)  # fmt: skip


async def update_order(request: web.Request) -> web.Response:
    """PUT /orders/<id>: the status is applied and the order saved (date_modified moves)."""
    store = request.app[STORE]
    order = store.orders.get(int(request.match_info["id"]))
    if order is None:
        return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
    body = await _json_body(request)
    status = body.get("status")
    if status is not None and status not in ORDER_STATUSES:
        listed = ", ".join(ORDER_STATUSES)
        message = f"Invalid parameter(s): status is not one of {listed}"
        return _error(400, "rest_invalid_param", message)
    if status is not None:
        order["status"] = status
    saved = _modified(order) + timedelta(seconds=1)
    order["date_modified_gmt"] = order["date_modified"] = saved.isoformat(timespec="seconds")
    return web.json_response(order)


async def add_note(request: web.Request) -> web.Response:
    """POST /orders/<id>/notes: 201 with the note."""
    store = request.app[STORE]
    order_id = int(request.match_info["id"])
    if order_id not in store.orders:
        return _error(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
    body = await _json_body(request)
    if not body.get("note"):
        return _error(400, "rest_missing_callback_param", "Missing parameter(s): note")
    notes = store.notes.setdefault(order_id, [])
    customer = bool(body.get("customer_note"))
    note = {"id": len(notes) + 1, "note": body["note"], "customer_note": customer}
    notes.append(note)
    return web.json_response(note, status=201)


def _parse_date(value: str) -> datetime | None:
    # rest_parse_date(): a date and a time; a date alone is refused.
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if "T" not in value and " " not in value:
        return None
    return parsed.replace(tzinfo=None) if parsed.tzinfo else parsed


def _hours(hours: int) -> timedelta:
    return timedelta(hours=hours)


def _modified(order: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(order["date_modified_gmt"]))


async def no_route(request: web.Request) -> web.Response:
    """Any other /wp-json route, as WordPress answers it."""
    return _error(404, "rest_no_route", "No route was found matching the URL and request method.")


@web.middleware
async def _authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    store = request.app[STORE]
    method, failure = _check_key(request, store)
    body = await _json_body(request) if request.can_read_body else None
    store.requests.append(
        RecordedRequest(request.method, request.path, dict(request.query), body, method)
    )
    if not request.path.startswith(PREFIX):
        return await handler(request)
    if store.delay:
        await asyncio.sleep(store.delay)
    if store.fail_status is not None:
        if store.fail_html:
            page = "<!DOCTYPE html><html><body><h1>Access denied</h1></body></html>"
            return web.Response(status=store.fail_status, text=page, content_type="text/html")
        return _error(store.fail_status, "internal_server_error", "There has been an error.")
    if failure:
        return _error(401, "woocommerce_rest_authentication_error", failure)
    if method is None:
        code, message = _ANONYMOUS.get(request.method, _ANONYMOUS["GET"])
        return _error(401, code, message)
    needed = "read" if request.method in ("GET", "HEAD") else "write"
    if store.permissions not in (needed, "read_write"):
        return _error(
            401,
            "woocommerce_rest_authentication_error",
            f"The API key provided does not have {needed} permissions.",
        )
    return await handler(request)


def _check_key(request: web.Request, store: FakeStore) -> tuple[str | None, str | None]:
    """Return (how the key came, why it was refused) as WC_REST_Authentication decides."""
    if request.secure:
        key, secret, method = _plain_credentials(request)
        if key == store.consumer_key:
            if hmac.compare_digest(secret, store.consumer_secret):
                return method, None
            return None, "Consumer secret is invalid."
        # An unknown key is not an error yet: WooCommerce falls through to OAuth.
    return _check_oauth(request, store)


def _plain_credentials(request: web.Request) -> tuple[str, str, str]:
    query = request.query
    if query.get("consumer_key") and query.get("consumer_secret"):
        return query["consumer_key"], query["consumer_secret"], "query"
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    try:
        key, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        key = secret = ""
    return (key, secret, "basic") if scheme.lower() == "basic" else ("", "", "basic")


def _check_oauth(request: web.Request, store: FakeStore) -> tuple[str | None, str | None]:
    params = dict(request.query)
    names = ("consumer_key", "timestamp", "nonce", "signature", "signature_method")
    missing = [f"oauth_{n}" for n in names if not params.get(f"oauth_{n}")]
    if len(missing) == len(names):
        return None, None  # no credentials at all
    if missing:
        return None, f"Missing OAuth parameter(s) {', '.join(missing)}"
    if params["oauth_consumer_key"] != store.consumer_key:
        return None, "Consumer key is invalid."
    # PHP decodes '+' to a space in $_GET; WooCommerce turns it back before comparing.
    given = unquote(params.pop("oauth_signature").replace(" ", "+"))
    algorithm = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}.get(
        params["oauth_signature_method"]
    )
    if algorithm is None:
        return None, "Invalid signature - signature method is invalid."
    # check_oauth_signature(): sort by key, encode each key and value, then each "key=value".
    pairs = (f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(params.items()))
    query_string = "%26".join(quote(pair, safe="") for pair in pairs)
    base_uri = quote(f"{request.scheme}://{request.host}{request.path}", safe="")
    to_sign = f"{request.method}&{base_uri}&{query_string}"
    key = f"{store.consumer_secret}&".encode()
    expected = base64.b64encode(hmac.new(key, to_sign.encode(), algorithm).digest()).decode()
    if not hmac.compare_digest(expected, given):
        return None, "Invalid signature - provided signature does not match."
    stamp = params["oauth_timestamp"]
    if not stamp.isdigit() or abs(int(stamp) - time.time()) > _NONCE_WINDOW:
        return None, "Invalid timestamp."
    if params["oauth_nonce"] in store.used_nonces:
        return None, "Invalid nonce - nonce has already been used."
    store.used_nonces.add(params["oauth_nonce"])
    return "oauth1", None


_ANONYMOUS = {
    "GET": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "POST": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "PUT": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
}
_BAD_TOPIC = "Webhook topic is required and must be valid."
_BAD_URL = "Webhook delivery URL must be a valid URL starting with http:// or https://."


def _error(status: int, code: str, message: str) -> web.Response:
    body = {"code": code, "message": message, "data": {"status": status}}
    return web.json_response(body, status=status)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _int_param(request: web.Request, name: str, default: int) -> int:
    value = request.query.get(name, "")
    return int(value) if value.isdigit() else default


def _valid_url(url: str) -> bool:
    # wc_is_valid_url(): an http(s):// prefix and PHP's FILTER_VALIDATE_URL, roughly.
    head, _, rest = url.partition("://")
    return head in ("http", "https") and bool(rest) and not any(c.isspace() for c in url)


def main() -> None:
    """Serve an empty fake store and print its API key."""
    store = FakeStore()
    print(f"Fake WooCommerce store at http://127.0.0.1:8081  key {store.consumer_key}")
    print(f"secret {store.consumer_secret}  (made up for this run)")
    web.run_app(create_app(store), host="127.0.0.1", port=8081, print=None)


if __name__ == "__main__":
    main()


def _valid_topic(topic: str) -> bool:
    if topic.startswith(("action.woocommerce_", "action.wc_")):
        return topic not in FORBIDDEN_ACTIONS and len(topic.split()) == 1
    return topic in VALID_TOPICS
