"""`woo-bridge woo register|status` against a stand-in WooCommerce store."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes.woocommerce import FakeStore, create_app

KEY, SECRET = "ck_" + "a" * 40, "cs_" + "b" * 40
REPO = Path(__file__).resolve().parents[2]
DELIVERY = "https://bridge.example.com/webhook"


@pytest.fixture
async def store(aiohttp_server: Any) -> tuple[FakeStore, TestServer]:
    fake = FakeStore(KEY, SECRET)
    return fake, await aiohttp_server(create_app(fake))


async def woo(
    server: TestServer,
    *args: str,
    env: dict[str, str | None] | None = None,
    cwd: Path | None = None,
    stdin: bytes = b"",
) -> tuple[int, str, str]:
    """Run `woo-bridge woo ...` as a child process (it runs its own event loop).

    A variable given as None in `env` is left out of the child's environment.
    """
    environment: dict[str, str | None] = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "WOOCOMMERCE_CONSUMER_KEY": KEY,
        "WOOCOMMERCE_CONSUMER_SECRET": SECRET,
        "WOOCOMMERCE_WEBHOOK_SECRET": "whsec",
        **(env or {}),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bridge",
        "woo",
        *args,
        "--store-url",
        str(server.make_url("")),
        env={name: value for name, value in environment.items() if value is not None},
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(stdin)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_register_creates_then_reuses(store: tuple[FakeStore, TestServer]) -> None:
    fake, server = store
    args = ("register", "--delivery-url", DELIVERY, "--topics", "order.created,order.updated")
    status, out, err = await woo(server, *args)
    assert status == 0, err
    assert [line.split()[0] for line in out.splitlines()[:2]] == ["created", "created"]
    assert sorted(h.topic for h in fake.webhooks.values()) == ["order.created", "order.updated"]
    assert all(h.secret == "whsec" for h in fake.webhooks.values())

    status, out, _ = await woo(server, *args)
    assert status == 0
    assert [line.split()[0] for line in out.splitlines()[:2]] == ["reused", "reused"]
    assert len(fake.webhooks) == 2


async def test_status_flags_disabled_webhooks(store: tuple[FakeStore, TestServer]) -> None:
    fake, server = store
    fake.add_webhook("order.created", DELIVERY, status="disabled")
    fake.add_webhook("order.updated", DELIVERY)
    status, out, _ = await woo(server, "status")
    assert status == 1
    assert "not delivering" in out
    assert "re-activates" in out


async def test_a_url_woocommerce_would_refuse_is_refused_first(
    store: tuple[FakeStore, TestServer],
) -> None:
    fake, server = store
    status, _, err = await woo(
        server, "register", "--delivery-url", "https://bridge.example.com:8000/webhook"
    )
    assert status == 2
    assert "ports 80, 443 and 8080" in err
    assert fake.webhooks == {}


async def test_missing_key_says_where_to_make_one(store: tuple[FakeStore, TestServer]) -> None:
    _, server = store
    status, _, err = await woo(server, "status", env={"WOOCOMMERCE_CONSUMER_KEY": ""})
    assert status == 2
    assert "REST API" in err


async def test_the_key_and_secret_come_from_dotenv_like_the_bridge_settings(
    store: tuple[FakeStore, TestServer], tmp_path: Path
) -> None:
    fake, server = store
    (tmp_path / ".env").write_text(
        f"WOOCOMMERCE_CONSUMER_KEY={KEY}\nWOOCOMMERCE_CONSUMER_SECRET={SECRET}\n"
        "WOOCOMMERCE_WEBHOOK_SECRET=from-dotenv\n"
    )
    unset: dict[str, str | None] = dict.fromkeys(
        ("WOOCOMMERCE_CONSUMER_KEY", "WOOCOMMERCE_CONSUMER_SECRET", "WOOCOMMERCE_WEBHOOK_SECRET")
    )
    args = ("register", "--delivery-url", DELIVERY, "--topics", "order.created")
    status, _, err = await woo(server, *args, env=unset, cwd=tmp_path)
    assert status == 0, err
    assert [h.secret for h in fake.webhooks.values()] == ["from-dotenv"]


async def test_a_store_of_the_config_file_registers_with_its_own_secret(
    store: tuple[FakeStore, TestServer], tmp_path: Path
) -> None:
    fake, server = store
    (tmp_path / "vn_secret").write_text("vn-secret\n")
    config = tmp_path / "bridge.toml"
    config.write_text('[[stores]]\nname = "shop-vn"\nsecret_file = "vn_secret"\n')
    url = "https://bridge.example.com/webhook/shop-vn"
    args = ("register", "--delivery-url", url, "--topics", "order.created")
    status, _, err = await woo(server, *args, env={"BRIDGE_CONFIG": str(config)}, cwd=tmp_path)
    assert status == 0, err
    # Not WOOCOMMERCE_WEBHOOK_SECRET: the bridge checks /webhook/shop-vn with shop-vn's.
    assert [h.secret for h in fake.webhooks.values()] == ["vn-secret"]
    assert "vn-secret" not in err


WEBHOOK_SECRET = "whsec-DISTINCT-4711-Qz"


async def test_an_error_echoing_the_request_shows_no_secret(aiohttp_server: Any) -> None:
    """Some stores (and proxies) quote the request in their error text."""

    async def echo(request: web.Request) -> web.Response:
        if request.method == "GET":
            return web.json_response([])
        text = f"cannot save {await request.text()} ({request.headers.get('Authorization')})"
        return web.json_response({"code": "rest_invalid", "message": text}, status=400)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    server = await aiohttp_server(app)
    status, out, err = await woo(
        server,
        "register",
        "--delivery-url",
        DELIVERY,
        "--topics",
        "order.created",
        env={"WOOCOMMERCE_WEBHOOK_SECRET": WEBHOOK_SECRET},
    )
    assert status == 1
    assert "[webhook secret]" in err
    assert WEBHOOK_SECRET not in out + err
    assert SECRET not in out + err


async def test_secrets_read_from_files_and_standard_input(
    store: tuple[FakeStore, TestServer], tmp_path: Path
) -> None:
    fake, server = store
    hook_secret = tmp_path / "webhook_secret"
    hook_secret.write_text(WEBHOOK_SECRET + "\n")
    status, _, err = await woo(
        server,
        "register",
        "--delivery-url",
        DELIVERY,
        "--topics",
        "order.created",
        "--secret-file",
        "-",
        "--webhook-secret-file",
        str(hook_secret),
        env={"WOOCOMMERCE_CONSUMER_SECRET": None, "WOOCOMMERCE_WEBHOOK_SECRET": None},
        stdin=f"{SECRET}\n".encode(),
    )
    assert status == 0, err
    assert [h.secret for h in fake.webhooks.values()] == [WEBHOOK_SECRET]


async def test_the_webhook_secret_comes_from_the_bridges_settings(
    store: tuple[FakeStore, TestServer], tmp_path: Path
) -> None:
    fake, server = store
    (tmp_path / "woocommerce_webhook_secret").write_text(WEBHOOK_SECRET)
    args = ("register", "--delivery-url", DELIVERY, "--topics", "order.created")
    env = {"WOOCOMMERCE_WEBHOOK_SECRET": None, "BRIDGE_SECRETS_DIR": str(tmp_path)}
    status, _, err = await woo(server, *args, env=env)
    assert status == 0, err
    assert [h.secret for h in fake.webhooks.values()] == [WEBHOOK_SECRET]


async def test_the_secret_on_the_command_line_still_works_with_a_warning(
    store: tuple[FakeStore, TestServer],
) -> None:
    _, server = store
    env: dict[str, str | None] = {"WOOCOMMERCE_CONSUMER_SECRET": None}
    status, _, err = await woo(server, "status", "--secret", SECRET, env=env)
    assert status == 0, err
    assert "--secret shows the consumer secret to every user of this host" in err


async def test_an_unreadable_secret_file_is_named(
    store: tuple[FakeStore, TestServer], tmp_path: Path
) -> None:
    _, server = store
    missing = tmp_path / "nothing-here"
    status, _, err = await woo(server, "status", "--secret-file", str(missing))
    assert status == 2
    assert f"cannot read the secret from {missing}: No such file or directory" in err


async def test_a_named_store_brings_its_key_and_the_public_url_its_delivery_url(
    store: tuple[FakeStore, TestServer], tmp_path: Path
) -> None:
    fake, server = store
    (tmp_path / "bridge.toml").write_text(
        f'[[stores]]\nname = "shop-vn"\nsecret = "vn-secret"\nstore_url = "https://shop.vn"\n'
        f'consumer_key = "{KEY}"\nconsumer_secret = "{SECRET}"\n',
        encoding="utf-8",
    )
    env: dict[str, str | None] = {
        "BRIDGE_CONFIG": str(tmp_path / "bridge.toml"),
        "BRIDGE_PUBLIC_URL": "https://bridge.example.com",
        "WOOCOMMERCE_CONSUMER_KEY": None,
        "WOOCOMMERCE_CONSUMER_SECRET": None,
    }
    args = ("register", "--store", "shop-vn", "--topics", "order.created")
    status, out, err = await woo(server, *args, env=env, cwd=tmp_path)
    assert status == 0, err
    [hook] = fake.webhooks.values()
    assert (hook.delivery_url, hook.secret) == (
        "https://bridge.example.com/webhook/shop-vn",
        "vn-secret",
    )
    assert SECRET not in out + err
