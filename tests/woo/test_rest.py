"""WooClient against the fake WooCommerce store, over real sockets."""

import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Handler
from yarl import URL

from bridge.woo import oauth
from bridge.woo.rest import RegisterAction, WooApiError, WooClient, WooConfigError
from tests.fakes.woocommerce import FakeStore, create_app

HOOK_URL = "https://bridge.example.com/woo"
SECRET = "WebhookSecret0123456789abcdef"
TOPICS = ["order.created", "order.updated", "product.published"]

ServerFactory = Callable[..., Awaitable[TestServer]]


async def serve(aiohttp_server: ServerFactory, handler: Handler) -> str:
    """Serve ``handler`` as a store's webhooks endpoint; return the store URL."""
    app = web.Application()
    app.router.add_route("*", "/wp-json/wc/v3/webhooks", handler)
    return str((await aiohttp_server(app)).make_url("/"))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
async def woo(
    aiohttp_server: ServerFactory, store: FakeStore, http: aiohttp.ClientSession
) -> WooClient:
    server = await aiohttp_server(create_app(store))
    return WooClient(http, str(server.make_url("/")), store.consumer_key, store.consumer_secret)


async def test_register_creates_one_active_webhook_per_topic_on_an_empty_store(
    woo: WooClient, store: FakeStore
) -> None:
    results = await woo.register(HOOK_URL, SECRET, TOPICS)

    assert [(r.topic, r.action) for r in results] == [(t, RegisterAction.CREATED) for t in TOPICS]
    stored = sorted(store.webhooks.values(), key=lambda h: h.topic)
    assert [(h.topic, h.delivery_url, h.status, h.secret) for h in stored] == [
        (t, HOOK_URL, "active", SECRET) for t in sorted(TOPICS)
    ]
    assert {r.webhook.id for r in results} == set(store.webhooks)
    assert results[0].webhook.name == "Telegram bridge: order.created"


async def test_a_second_register_creates_nothing_and_resends_the_secret(
    woo: WooClient, store: FakeStore
) -> None:
    await woo.register(HOOK_URL, SECRET, TOPICS)
    ids = set(store.webhooks)
    store.requests.clear()

    results = await woo.register(HOOK_URL, "RotatedSecret987", TOPICS)

    assert [r.action for r in results] == [RegisterAction.REUSED] * len(TOPICS)
    assert set(store.webhooks) == ids
    assert store.calls("POST") == []
    # The secret cannot be read back, so it is always sent; that alone is no "update".
    assert [r.body for r in store.calls("PUT")] == [{"secret": "RotatedSecret987"}] * len(TOPICS)
    assert {h.secret for h in store.webhooks.values()} == {"RotatedSecret987"}


async def test_register_reactivates_disabled_and_paused_webhooks(
    woo: WooClient, store: FakeStore
) -> None:
    disabled = store.add_webhook("order.created", HOOK_URL, status="disabled")
    paused = store.add_webhook("order.updated", HOOK_URL, status="paused")
    for hook in (disabled, paused):
        hook.name = f"Telegram bridge: {hook.topic}"

    results = await woo.register(HOOK_URL, SECRET, ["order.created", "order.updated"])

    assert [(r.webhook.id, r.action) for r in results] == [
        (disabled.id, RegisterAction.REACTIVATED),
        (paused.id, RegisterAction.REACTIVATED),
    ]
    assert all(r.webhook.delivers for r in results)
    assert (disabled.status, paused.status) == ("active", "active")
    assert (disabled.secret, paused.secret) == (SECRET, SECRET)
    assert store.calls("POST") == []


async def test_register_renames_a_matching_webhook_and_says_updated(
    woo: WooClient, store: FakeStore
) -> None:
    hook = store.add_webhook("order.created", HOOK_URL, name="Orders")

    [result] = await woo.register(HOOK_URL, SECRET, ["order.created"])

    assert (result.action, result.webhook.id) == (RegisterAction.UPDATED, hook.id)
    assert hook.name == "Telegram bridge: order.created"


async def test_register_treats_another_url_as_another_endpoint(
    woo: WooClient, store: FakeStore
) -> None:
    store.add_webhook("order.created", HOOK_URL + "/")
    store.add_webhook("order.updated", HOOK_URL)

    results = await woo.register(HOOK_URL, SECRET, ["order.created"])

    assert results[0].action is RegisterAction.CREATED
    assert results[0].webhook.delivery_url == HOOK_URL
    assert len(store.webhooks) == 3


async def test_listing_pages_through_more_than_100_webhooks(
    woo: WooClient, store: FakeStore
) -> None:
    # The oldest is the match; the store lists newest first, so it sits on the third page.
    oldest = store.add_webhook("order.created", HOOK_URL, name="Telegram bridge: order.created")
    for n in range(229):
        store.add_webhook("order.updated", f"https://elsewhere.example/{n}")

    hooks = await woo.list_webhooks()

    assert sorted(h.id for h in hooks) == sorted(store.webhooks)
    assert [r.query["page"] for r in store.calls("GET")] == ["1", "2", "3"]
    assert {(r.query["per_page"], r.query["status"]) for r in store.calls("GET")} == {
        ("100", "all")
    }

    [result] = await woo.register(HOOK_URL, SECRET, ["order.created"])
    assert (result.action, result.webhook.id) == (RegisterAction.REUSED, oldest.id)
    assert len(store.webhooks) == 230


async def test_listing_stops_at_the_last_page_the_store_announces(
    woo: WooClient, store: FakeStore
) -> None:
    for n in range(200):
        store.add_webhook("order.updated", f"https://elsewhere.example/{n}")

    assert len(await woo.list_webhooks()) == 200
    # Page 2 is full, but X-WP-TotalPages says it is the last: no request for an empty page 3.
    assert [r.query["page"] for r in store.calls("GET")] == ["1", "2"]


async def test_listing_without_paging_headers_stops_at_a_short_page(
    woo: WooClient, store: FakeStore
) -> None:
    store.paging_headers = False
    for n in range(230):
        store.add_webhook("order.updated", f"https://elsewhere.example/{n}")

    assert len(await woo.list_webhooks()) == 230
    assert [r.query["page"] for r in store.calls("GET")] == ["1", "2", "3"]


async def test_listing_ends_when_the_store_ignores_the_page_number(
    aiohttp_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    pages: list[str] = []

    async def same_page(request: web.Request) -> web.Response:
        pages.append(request.query["page"])
        if len(pages) > 3:  # fail rather than hang should the client loop
            raise web.HTTPInternalServerError
        hooks = [
            {"id": n, "name": "", "status": "active", "topic": "order.created", "delivery_url": ""}
            for n in range(1, 101)
        ]
        return web.json_response(hooks)

    client = WooClient(http, await serve(aiohttp_server, same_page), "ck_key", "cs_secret")

    assert len(await client.list_webhooks()) == 100
    assert pages == ["1", "2"]


async def test_status_filters_by_exact_url_and_flags_webhooks_that_do_not_deliver(
    woo: WooClient, store: FakeStore
) -> None:
    store.add_webhook("order.created", HOOK_URL)
    store.add_webhook("order.updated", HOOK_URL, status="disabled")
    store.add_webhook("order.deleted", HOOK_URL + "/")

    mine = await woo.status(HOOK_URL)

    assert sorted((h.topic, h.status, h.delivers) for h in mine) == [
        ("order.created", "active", True),
        ("order.updated", "disabled", False),
    ]
    assert len(await woo.status()) == 3


@pytest.mark.parametrize(
    ("topic", "hint"),
    [
        ("customer.restored", "never fires"),
        ("order.published", "order.created"),
        ("order.shipped", "product.published"),
        ("Order.Created", "lower case"),
        ("action.save_post", "action.woocommerce_"),
        ("action.woocommerce_login_credentials", "does not allow"),
    ],
)
async def test_an_invalid_topic_is_refused_before_any_request(
    woo: WooClient, store: FakeStore, topic: str, hint: str
) -> None:
    with pytest.raises(WooConfigError, match=hint):
        await woo.register(HOOK_URL, SECRET, ["order.created", topic])

    assert store.requests == []


async def test_a_refused_key_gets_a_message_a_shop_owner_can_act_on(
    aiohttp_server: ServerFactory, store: FakeStore, http: aiohttp.ClientSession
) -> None:
    server = await aiohttp_server(create_app(store))
    wrong = WooClient(http, str(server.make_url("/")), store.consumer_key, "cs_" + "0" * 40)

    with pytest.raises(WooApiError) as caught:
        await wrong.list_webhooks()

    assert caught.value.status == 401
    assert caught.value.code == "woocommerce_rest_authentication_error"
    assert "the REST API key was refused" in str(caught.value)
    assert "read_write permission" in str(caught.value)


async def test_a_read_only_key_cannot_register(woo: WooClient, store: FakeStore) -> None:
    store.permissions = "read"

    with pytest.raises(WooApiError, match="read_write permission") as caught:
        await woo.register(HOOK_URL, SECRET, ["order.created"])

    assert caught.value.status == 401
    assert store.webhooks == {}


def closed_port_url() -> str:
    """A local address nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_an_unreachable_store_is_named(http: aiohttp.ClientSession) -> None:
    url = closed_port_url()
    client = WooClient(http, url, "ck_key", "cs_secret")

    with pytest.raises(WooApiError, match="could not reach the store") as caught:
        await client.status()

    assert f"{url}/wp-json/wc/v3/webhooks" in str(caught.value)
    assert caught.value.status is None


async def test_a_url_without_the_rest_api_points_at_permalinks(
    aiohttp_server: ServerFactory, store: FakeStore, http: aiohttp.ClientSession
) -> None:
    server = await aiohttp_server(create_app(store))
    client = WooClient(
        http, str(server.make_url("/shop")), store.consumer_key, store.consumer_secret
    )

    with pytest.raises(WooApiError, match="permalinks are not 'Plain'") as caught:
        await client.list_webhooks()

    assert caught.value.status == 404


async def test_a_redirect_is_reported_not_followed(
    aiohttp_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("https://www.shop.example/wp-json/wc/v3/webhooks")

    client = WooClient(http, await serve(aiohttp_server, moved), "ck_key", "cs_secret")

    with pytest.raises(WooApiError, match=r"redirects .* to https://www\.shop\.example/") as caught:
        await client.list_webhooks()

    assert caught.value.status == 301


async def test_the_consumer_secret_never_appears_in_error_messages(
    aiohttp_server: ServerFactory, http: aiohttp.ClientSession
) -> None:
    secret = "cs_" + "7e" * 20

    async def echo(request: web.Request) -> web.Response:
        # A plugin or proxy that repeats what it got, credentials and all.
        message = f"bad request {request.url} {request.headers} key ck_key secret {secret}"
        return web.json_response({"code": "echo", "message": message}, status=500)

    echo_url = await serve(aiohttp_server, echo)
    fake_url = str((await aiohttp_server(create_app(FakeStore()))).make_url("/"))

    messages = []
    for url in (echo_url, fake_url, fake_url + "shop", closed_port_url()):
        with pytest.raises(WooApiError) as caught:
            await WooClient(http, url, "ck_key", secret).register(
                HOOK_URL, SECRET, ["order.created"]
            )
        messages.append(f"{caught.value} {caught.value.args} {caught.value.wc_message}")
    with pytest.raises(WooConfigError) as swapped:
        WooClient(http, fake_url, secret, "ck_key")
    messages.append(str(swapped.value))

    assert [m for m in messages if secret in m] == []
    assert "[consumer secret]" in messages[0]  # the echo really did carry it


async def test_plain_http_signs_requests_instead_of_sending_the_secret(
    woo: WooClient, store: FakeStore
) -> None:
    await woo.register(HOOK_URL, SECRET, ["order.created"])

    assert {r.auth for r in store.requests} == {"oauth1"}
    assert all(store.consumer_secret not in str(r.query) for r in store.requests)


def test_the_oauth_signature_matches_woocommerces_official_client() -> None:
    # Expected value computed with woocommerce/wc-api-python's OAuth.generate_oauth_signature
    # (woocommerce/oauth.py @ 00bc2fe) for the same inputs.
    query = oauth.signed_query(
        "GET",
        URL("http://shop.example.com/wp-json/wc/v3/webhooks"),
        {"per_page": "100", "page": "2", "status": "all"},
        "ck_4f0c2a4e7f1d7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
        "cs_9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d",
        timestamp=1700000000,
        nonce="0123456789abcdef0123456789abcdef",
    )

    assert query["oauth_signature"] == "YSdWtMTPj/3DFvgtSAjW0DADpnPrCZbbHcyQi6Y2VVQ="


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_https_uses_basic_auth_and_keeps_a_refused_secret_out_of_the_error(
    aiohttp_server: ServerFactory, store: FakeStore, tls_files: tuple[Path, Path]
) -> None:
    cert, key = tls_files
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    server = await aiohttp_server(create_app(store), ssl=server_tls)
    client_tls = ssl.create_default_context(cafile=str(cert))

    wrong_secret = "cs_" + "5a" * 20
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_tls)) as http:
        woo = WooClient(http, str(server.make_url("/")), store.consumer_key, store.consumer_secret)
        [result] = await woo.register(HOOK_URL, SECRET, ["order.created"])
        accepted = list(store.requests)
        wrong = WooClient(http, str(server.make_url("/")), store.consumer_key, wrong_secret)
        with pytest.raises(WooApiError, match="key was refused") as caught:
            await wrong.status()

    assert str(server.make_url("/")).startswith("https://")
    assert result.action is RegisterAction.CREATED
    assert {r.auth for r in accepted} == {"basic"}
    assert all("consumer_secret" not in r.query for r in accepted)
    assert caught.value.wc_message == "Consumer secret is invalid."
    assert wrong_secret not in f"{caught.value} {caught.value.args}"


async def test_orders_are_listed_over_https_with_basic_auth_oldest_first_in_pages(
    aiohttp_server: ServerFactory, store: FakeStore, tls_files: tuple[Path, Path]
) -> None:
    cert, key = tls_files
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    server = await aiohttp_server(create_app(store), ssl=server_tls)
    client_tls = ssl.create_default_context(cafile=str(cert))
    for number, minute in ((1, 30), (2, 10), (3, 20), (4, 50)):
        store.put_order(
            {
                "id": number,
                "status": "processing",
                "date_modified_gmt": f"2024-05-01T10:{minute}:00",
            }
        )
    # The site runs at UTC+7: a date sent without dates_are_gmt would be read 7 hours off.
    store.site_offset_hours = 7

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=client_tls)) as http:
        woo = WooClient(http, str(server.make_url("/")), store.consumer_key, store.consumer_secret)
        pages = [
            [order["id"] for order in page]
            async for page in woo.orders_modified(
                "2024-05-01T10:10:00", "2024-05-01T10:50:00", per_page=1
            )
        ]

    # Bounds are exclusive, as WooCommerce's date query is.
    assert pages == [[3], [1]]
    listed = [r for r in store.requests if r.path.endswith("/orders")]
    assert {r.auth for r in listed} == {"basic"}
    assert all("consumer_secret" not in r.query for r in listed)
