"""Register and inspect a store's webhooks through WooCommerce's REST API (``/wc/v3/webhooks``).

The caller owns the ``aiohttp.ClientSession``; one ``WooClient`` talks to one store. Nothing here
ever puts the consumer secret into a URL, a message or a log. Over 300 lines because it is one
client: authentication, paging, register and status, each short.
"""

import base64
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import aiohttp
from yarl import URL

from bridge.woo import oauth, validate
from bridge.woo.validate import WooConfigError

__all__ = [
    "RegisterAction",
    "RegisterResult",
    "Webhook",
    "WooApiError",
    "WooClient",
    "WooConfigError",
]

#: WooCommerce's largest page size for collections.
PER_PAGE = 100
_API_PATH = "wp-json/wc/v3"


class WooApiError(RuntimeError):
    """The store could not be reached, or it refused a request.

    ``status`` is None when no HTTP answer came back. ``code`` and ``wc_message`` are
    WooCommerce's own error fields, when it answered with its JSON error shape.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        wc_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.wc_message = wc_message


@dataclass(frozen=True, slots=True)
class Webhook:
    """One webhook as the store reports it (WooCommerce never returns the secret)."""

    id: int
    name: str
    #: "active", "paused" (by an admin) or "disabled" (by an admin, or by WooCommerce after
    #: repeated delivery failures).
    status: str
    topic: str
    delivery_url: str

    @property
    def delivers(self) -> bool:
        """False for paused and disabled webhooks: WooCommerce sends nothing for them."""
        return self.status == "active"


class RegisterAction(StrEnum):
    """What ``WooClient.register`` did for one topic."""

    #: No webhook had this topic and delivery URL; a new, active one was made.
    CREATED = "created"
    #: An active webhook already matched; only its secret was set again.
    REUSED = "reused"
    #: A matching webhook was paused or disabled; it is active again.
    REACTIVATED = "reactivated"
    #: A matching active webhook had another name; it was renamed.
    UPDATED = "updated"


@dataclass(frozen=True, slots=True)
class RegisterResult:
    topic: str
    action: RegisterAction
    webhook: Webhook


class WooClient:
    """The webhooks of one store, reached with a REST API key (``ck_…`` / ``cs_…``)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        store_url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        timeout: float = 30.0,
    ) -> None:
        validate.check_credentials(consumer_key, consumer_secret)
        self._session = session
        self._api = validate.store_url(store_url) / _API_PATH
        self._endpoint = self._api / "webhooks"
        self._key = consumer_key
        self._secret = consumer_secret
        # Built by hand: aiohttp 3.14 deprecates BasicAuth, older releases lack its successor.
        token = base64.b64encode(f"{consumer_key}:{consumer_secret}".encode()).decode("ascii")
        self._basic_auth = f"Basic {token}"
        #: what a store or a proxy may echo back (its error text can quote the request, the
        #: webhook secret included) and what each is replaced with in messages
        self._hidden = {consumer_secret: "[consumer secret]", token: "[credentials]"}
        # Creating a webhook makes WooCommerce ping the delivery URL (up to 5 s) before it answers.
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def list_webhooks(self) -> list[Webhook]:
        """Return every webhook of the store, whatever its status."""
        found: dict[int, Webhook] = {}
        page = 1
        while True:
            query = {"per_page": str(PER_PAGE), "page": str(page), "status": "all"}
            data, headers = await self._call("GET", query=query)
            if not isinstance(data, list):
                raise self._error(f"the store answered GET {self._endpoint} with no list")
            batch = [self._webhook(item) for item in data]
            new = [hook for hook in batch if hook.id not in found]
            found.update((hook.id, hook) for hook in new)
            last_page = _int_header(headers, "X-WP-TotalPages")
            # A page with nothing new means the store ignores `page`; asking on would never end.
            if len(batch) < PER_PAGE or not new or (last_page is not None and page >= last_page):
                return list(found.values())
            page += 1

    async def orders_modified(
        self, after: str, before: str, *, per_page: int = PER_PAGE
    ) -> AsyncIterator[list[dict[str, object]]]:
        """The orders saved after `after` and before `before` (naive UTC, date_modified_gmt
        form), oldest first, one page at a time: a store with thousands of changed orders is
        never held in memory at once."""
        page = 1
        while True:
            query = {
                # Naive UTC with dates_are_gmt: a "Z" would be shifted to the site's timezone.
                "modified_after": after,
                "modified_before": before,
                "dates_are_gmt": "true",
                "orderby": "modified",
                "order": "asc",
                "per_page": str(per_page),
                "page": str(page),
            }
            data, headers = await self._call("GET", query=query, base=self._api / "orders")
            if not isinstance(data, list):
                raise self._error(f"the store answered GET {self._api}/orders with no list")
            yield [item for item in data if isinstance(item, dict)]
            last_page = _int_header(headers, "X-WP-TotalPages")
            if len(data) < per_page or (last_page is not None and page >= last_page):
                return
            page += 1

    async def order(self, order_id: str) -> dict[str, object]:
        """One order as the store has it now."""
        data, _ = await self._call("GET", order_id, base=self._api / "orders")
        if not isinstance(data, dict):
            raise self._error(f"the store answered GET {self._api}/orders/{order_id} with no order")
        return data

    async def latest_orders(self, status: str, count: int = 10) -> list[dict[str, object]]:
        """The `count` newest orders in `status`, newest first."""
        query = {"status": status, "per_page": str(count), "orderby": "date", "order": "desc"}
        data, _ = await self._call("GET", query=query, base=self._api / "orders")
        if not isinstance(data, list):
            raise self._error(f"the store answered GET {self._api}/orders with no list")
        return [item for item in data if isinstance(item, dict)]

    async def set_order_status(self, order_id: str, status: str) -> dict[str, object]:
        """Move an order to `status`; returns the order as saved."""
        data, _ = await self._call(
            "PUT", order_id, body={"status": status}, base=self._api / "orders"
        )
        if not isinstance(data, dict):
            raise self._error(f"the store answered PUT {self._api}/orders/{order_id} with no order")
        return data

    async def add_order_note(self, order_id: str, note: str, *, customer: bool = False) -> None:
        """Add a note to an order; a customer note is e-mailed to the customer by WooCommerce."""
        await self._call(
            "POST",
            f"{order_id}/notes",
            body={"note": note, "customer_note": customer},
            base=self._api / "orders",
        )

    async def set_webhook_status(self, hook: Webhook, status: str) -> Webhook:
        """Set one webhook's status (e.g. "active" again after WooCommerce disabled it)."""
        data, _ = await self._call("PUT", str(hook.id), body={"status": status})
        return self._webhook(data)

    async def version(self) -> str | None:
        """WooCommerce's version (GET /system_status: environment.version); None if untold."""
        base = self._api / "system_status"
        data, _ = await self._call("GET", query={"_fields": "environment"}, base=base)
        environment = data.get("environment") if isinstance(data, dict) else None
        version = environment.get("version") if isinstance(environment, dict) else None
        return version if isinstance(version, str) and version else None

    async def can_write(self) -> bool:
        """Whether the key may write, asked with an empty batch of webhooks (changes nothing)."""
        try:
            await self._call("POST", "batch", body={})
        except WooApiError as exc:
            if exc.status == 401 and "write permission" in (exc.wc_message or ""):
                return False
            raise
        return True

    async def status(self, delivery_url: str | None = None) -> list[Webhook]:
        """Return the store's webhooks, or only those delivering to exactly ``delivery_url``."""
        hooks = await self.list_webhooks()
        return [h for h in hooks if delivery_url is None or h.delivery_url == delivery_url]

    async def register(
        self,
        delivery_url: str,
        secret: str,
        topics: Iterable[str],
        name_prefix: str = "Telegram bridge",
    ) -> list[RegisterResult]:
        """Make sure one active webhook per topic sends to ``delivery_url``, signed with ``secret``.

        Safe to run again: a webhook with the same topic and the very same URL is reused rather
        than duplicated. A different URL, even by a trailing slash, is a different endpoint.
        Should one topic fail, the webhooks already made stay; running again picks them up.
        """
        wanted = validate.check_topics(topics)
        validate.check_delivery_url(delivery_url)
        if not secret:
            # WooCommerce would invent a secret we could never read back: no signature would verify.
            raise WooConfigError("the webhook secret is empty: set one, e.g. 32 random letters")
        self._hidden[secret] = "[webhook secret]"
        existing = await self.list_webhooks()
        results = []
        for topic in wanted:
            name = f"{name_prefix}: {topic}"
            match = _best_match(existing, topic, delivery_url)
            try:
                if match is None:
                    results.append(await self._create(topic, name, delivery_url, secret))
                else:
                    results.append(await self._reuse(match, name, secret))
            except WooApiError as exc:
                # Several topics share one message otherwise; say which one failed.
                raise WooApiError(
                    f"{topic}: {exc}", status=exc.status, code=exc.code, wc_message=exc.wc_message
                ) from exc
        return results

    async def _create(self, topic: str, name: str, url: str, secret: str) -> RegisterResult:
        body = {"name": name, "topic": topic, "delivery_url": url, "secret": secret}
        data, _ = await self._call("POST", body=body)
        return RegisterResult(topic, RegisterAction.CREATED, self._webhook(data))

    async def _reuse(self, hook: Webhook, name: str, secret: str) -> RegisterResult:
        # WooCommerce never returns a secret, so we cannot tell whether it still matches ours:
        # always send it. It is therefore not counted as a change.
        changes = {"secret": secret}
        if not hook.delivers:
            changes["status"] = "active"
        if hook.name != name:
            changes["name"] = name
        data, _ = await self._call("PUT", str(hook.id), body=changes)
        # Reactivation matters more to a shop owner than a new name, so it wins when both happen.
        if "status" in changes:
            action = RegisterAction.REACTIVATED
        elif "name" in changes:
            action = RegisterAction.UPDATED
        else:
            action = RegisterAction.REUSED
        return RegisterResult(hook.topic, action, self._webhook(data))

    async def _call(
        self,
        method: str,
        path: str = "",
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, object] | None = None,
        base: URL | None = None,
    ) -> tuple[object, Mapping[str, str]]:
        base = self._endpoint if base is None else base
        url = base / path if path else base
        params = dict(query or {})
        headers = {}
        if url.scheme == "https":
            headers["Authorization"] = self._basic_auth
        else:
            # WooCommerce ignores Basic auth and consumer_key/consumer_secret parameters unless
            # the request came over TLS; over http it only accepts an OAuth 1.0a signature.
            params = oauth.signed_query(method, url, params, self._key, self._secret)
        try:
            async with self._session.request(
                method,
                url,
                params=params,
                json=body,
                headers=headers,
                # A redirect would drop the auth header or change POST into GET: report it instead.
                allow_redirects=False,
                raise_for_status=False,
                timeout=self._timeout,
            ) as response:
                raw = await response.read()
                status, answer = response.status, response.headers
        except TimeoutError as exc:
            seconds = self._timeout.total
            raise self._error(f"the store at {url} did not answer within {seconds} s") from exc
        except aiohttp.ClientConnectionError as exc:
            raise self._error(f"could not reach the store at {url} ({exc})") from exc
        except aiohttp.ClientError as exc:
            raise self._error(f"{method} {url} failed ({exc})") from exc
        data = _json(raw)
        if data is None and raw.lstrip()[:1] == b"<":
            raise self._error(
                f"the store answered {method} {url} with an HTML page (HTTP {status}) instead of "
                "WooCommerce's JSON: a security plugin, firewall, cache or maintenance page is "
                "answering; allow this server's requests to /wp-json/wc/v3/",
                status=status,
                code="html",
            )
        if 300 <= status < 400:
            target = answer.get("Location", "another address")
            raise self._error(
                f"the store redirects {url} to {target}: use the address it redirects to as "
                "the store URL",
                status=status,
            )
        if status >= 400:
            raise self._refused(method, url, status, data)
        if data is None:
            raise self._error(f"the store answered {method} {url} with something other than JSON")
        return data, answer

    def _refused(self, method: str, url: URL, status: int, data: object) -> WooApiError:
        fields = data if isinstance(data, dict) else {}
        code = fields.get("code")
        code = code if isinstance(code, str) else None
        wc_message = fields.get("message")
        wc_message = wc_message if isinstance(wc_message, str) else None
        if status == 401:
            text = (
                "the REST API key was refused: check the consumer key/secret and that the key "
                "has read_write permission"
            )
            if url.scheme == "http":
                text += (
                    " (over plain http WooCommerce checks a signature that covers the store URL, "
                    "so use exactly the Site Address of WordPress' General Settings, or https)"
                )
        elif status == 403:
            what = "read orders" if url.path.endswith("/orders") else "manage webhooks"
            text = (
                f"the REST API key's user may not {what}: create the key for an "
                "Administrator or Shop manager"
            )
        elif status >= 500:
            text = (
                f"the store failed to answer {method} {url} (HTTP {status}): WordPress or its "
                "server has a problem; see its error log"
            )
        elif status == 404 and code in (None, "rest_no_route"):
            # WordPress without WooCommerce's routes, or no /wp-json at all (Plain permalinks).
            text = (
                f"the store URL does not expose the WooCommerce REST API at {url} (check the URL "
                "and that permalinks are not 'Plain')"
            )
        elif code is not None and code.endswith("_invalid_topic"):
            text = (
                "the store does not accept this topic (older WooCommerce lacks product.published): "
                "update WooCommerce or leave the topic out"
            )
        else:
            text = f"WooCommerce refused {method} {url} with HTTP {status}"
        if wc_message:
            text += f"; WooCommerce says: {wc_message}" + (f" [{code}]" if code else "")
        return self._error(text, status=status, code=code, wc_message=wc_message)

    def _error(
        self,
        text: str,
        *,
        status: int | None = None,
        code: str | None = None,
        wc_message: str | None = None,
    ) -> WooApiError:
        # Belt and braces: whatever a store or a proxy echoes back, the secret stays out.
        def clean(value: str) -> str:
            # Longest first, so that a secret containing another is hidden whole.
            for hidden in sorted(self._hidden, key=len, reverse=True):
                value = value.replace(hidden, self._hidden[hidden])
            return value

        return WooApiError(
            clean(text), status=status, code=code, wc_message=wc_message and clean(wc_message)
        )

    def _webhook(self, data: object) -> Webhook:
        try:
            return _parse_webhook(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise self._error(f"the store sent a webhook this bridge cannot read ({exc})") from exc


def _parse_webhook(data: object) -> Webhook:
    if not isinstance(data, dict):
        raise TypeError(f"expected an object, got {type(data).__name__}")
    return Webhook(
        id=int(data["id"]),
        name=str(data.get("name", "")),
        status=str(data["status"]),
        topic=str(data["topic"]),
        delivery_url=str(data["delivery_url"]),
    )


def _best_match(hooks: Iterable[Webhook], topic: str, delivery_url: str) -> Webhook | None:
    # Should a store hold duplicates, prefer one that delivers, then the oldest.
    matches = [h for h in hooks if h.topic == topic and h.delivery_url == delivery_url]
    return min(matches, key=lambda h: (not h.delivers, h.id), default=None)


def _json(raw: bytes) -> object:
    try:
        data: object = json.loads(raw)
    except ValueError:
        return None
    return data


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name, "")
    return int(value) if value.isdigit() else None
