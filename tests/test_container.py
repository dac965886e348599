"""The Dockerfile's steps, outside Docker (no base image can be fetched on the build
machines; README's "Development" says what was tried).

A wheel is built and installed into a fresh virtualenv beside the pinned dependencies,
byte-compiled as in the image, the code is made read-only,
and `woo-bridge serve` runs as an unprivileged user with only the data directory
writable: the image's conditions. Then the image's HEALTHCHECK command is run, a
webhook is delivered, and SIGTERM stops it cleanly.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bridge.webhook.signature import sign
from tests.fakes.telegram import FakeTelegram
from tests.helpers import CHAT_ID, SECRET, doc_block, free_port, wire

REPO = Path(__file__).resolve().parents[1]
NOBODY = 65534

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to run the bridge as an unprivileged user",
)


def dockerfile_healthcheck() -> list[str]:
    """The exec-form command of the Dockerfile's HEALTHCHECK."""
    text = (REPO / "Dockerfile").read_text()
    match = re.search(r"HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])", text)
    assert match, "the Dockerfile has no exec-form HEALTHCHECK"
    return list(json.loads(match.group(1)))


@pytest.fixture(scope="module")
def image_root() -> Iterator[Path]:
    """A directory the unprivileged user can reach (pytest's own temp dirs are private)."""
    root = Path(tempfile.mkdtemp(prefix="woo-bridge-image-"))
    root.chmod(0o755)
    yield root
    subprocess.run(["chmod", "-R", "u+w", str(root)], check=False)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def installed(image_root: Path) -> Path:
    """A fresh virtualenv with the bridge's wheel installed, then made read-only."""
    root = image_root
    wheels = root / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(wheels),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    [wheel] = wheels.glob("*.whl")
    pip = [str(venv / "bin" / "pip"), "install", "--quiet"]
    # As the Dockerfile does: the pinned dependencies, then the bridge alone, byte-compiled.
    pinned = REPO / "constraints" / "pinned.txt"
    subprocess.run([*pip, "-r", str(pinned)], check=True, timeout=600)
    subprocess.run([*pip, "--no-deps", str(wheel)], check=True, timeout=300)
    compileall = [str(venv / "bin" / "python"), "-m", "compileall", "-q", "-f"]
    subprocess.run(
        [*compileall, "--invalidation-mode", "unchecked-hash", str(venv / "lib")],
        check=True,
        timeout=300,
    )
    # Read-only code, as in the image where root owns it and the bridge runs unprivileged.
    subprocess.run(["chmod", "-R", "a-w", str(venv)], check=True)
    [package] = venv.glob("lib/python*/site-packages/bridge")
    assert list(package.glob("__pycache__/app.*.pyc")), "the bridge's code is not byte-compiled"
    return venv


async def test_runs_like_the_image(
    installed: Path, image_root: Path, telegram: tuple[FakeTelegram, TestServer]
) -> None:
    fake, server = telegram
    data = image_root / "data"
    data.mkdir()
    os.chown(data, NOBODY, NOBODY)
    port = free_port()
    env = {
        **_image_env(installed, data, port),
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": str(server.make_url("")).rstrip("/"),
        "TELEGRAM_CHAT_ID": str(CHAT_ID),
        "WOOCOMMERCE_WEBHOOK_SECRET": SECRET,
    }
    as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    process = subprocess.Popen([*as_nobody, "woo-bridge", "serve"], env=env, cwd=data)
    try:
        await _wait_healthy(port, process)
        healthcheck = await asyncio.create_subprocess_exec(
            *as_nobody, *dockerfile_healthcheck(), env=env
        )
        assert await asyncio.wait_for(healthcheck.wait(), 30) == 0

        body = wire("order")
        headers = {
            "X-WC-Webhook-Topic": "order.created",
            "X-WC-Webhook-Signature": sign(body, SECRET),
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{port}/webhook", data=body, headers=headers) as r,
        ):
            assert r.status == 200
        [message] = await fake.wait_for_messages(1)
        assert "New order" in message.text  # the built-in templates travelled in the wheel

        assert await _terminate(process) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_the_readme_two_store_setup_runs_like_the_image(
    installed: Path, image_root: Path, telegram: tuple[FakeTelegram, TestServer]
) -> None:
    """docs/deployment.md's bridge.toml, with the Docker secrets it reads, readable only by the
    bridge's user, as compose mounts them."""
    fake, server = telegram
    data = image_root / "data-two-stores"
    secrets = image_root / "run-secrets"
    for folder in (data, secrets):
        folder.mkdir()
        os.chown(folder, NOBODY, NOBODY)
    values = {
        "telegram_bot_token": fake.token,
        "shop_vn_webhook_secret": "vn-webhook-secret",
        "shop_br_webhook_secret": "br-webhook-secret",
    }
    for name, value in values.items():
        (secrets / name).write_text(value + "\n")
        os.chown(secrets / name, NOBODY, NOBODY)
        (secrets / name).chmod(0o400)
    text = doc_block("docs/deployment.md", "## Two stores, HTTPS and Docker secrets", "toml")
    config = image_root / "bridge.toml"
    config.write_text(text.replace("/run/secrets/", f"{secrets}/"))
    config.chmod(0o444)
    port = free_port()
    env = {
        **_image_env(installed, data, port),
        "BRIDGE_SECRETS_DIR": str(secrets),
        "BRIDGE_CONFIG": str(config),
        "TELEGRAM_API_BASE_URL": str(server.make_url("")).rstrip("/"),
    }
    as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    process = subprocess.Popen([*as_nobody, "woo-bridge", "serve"], env=env, cwd=data)
    try:
        await _wait_healthy(port, process)
        body = wire("order")
        async with aiohttp.ClientSession() as session:
            for store, secret in (
                ("shop-vn", "vn-webhook-secret"),
                ("shop-br", "br-webhook-secret"),
            ):
                headers = {
                    "X-WC-Webhook-Topic": "order.created",
                    "X-WC-Webhook-Signature": sign(body, secret),
                }
                url = f"http://127.0.0.1:{port}/webhook/{store}"
                async with session.post(url, data=body, headers=headers) as response:
                    assert response.status == 200
            async with session.post(f"http://127.0.0.1:{port}/webhook", data=body) as response:
                assert response.status == 404  # no store at /webhook in this setup
        await fake.wait_for_messages(4)  # each store's staff, and the owners twice
        vn, br = fake.messages_to(-1001111111111), fake.messages_to(-1002222222222)
        assert [m.text.split(" ", 1)[0] for m in vn + br] == ["[shop-vn]", "[shop-br]"]
        assert "Đơn hàng mới #727" in vn[0].text  # the route's language
        owners = fake.messages_to(-1003333333333)
        assert sorted(m.text.split(" ", 1)[0] for m in owners) == ["[shop-br]", "[shop-vn]"]
        assert await _terminate(process) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def _wait_healthy(port: int, process: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session, asyncio.timeout(30):
        while True:
            assert process.poll() is None, "the bridge exited during start-up"
            try:
                async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)


async def _terminate(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then wait for the exit without blocking the loop (the stand-in runs on it)."""
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(20):
        while process.poll() is None:
            await asyncio.sleep(0.05)
    return process.returncode


def _image_env(installed: Path, data: Path, port: int) -> dict[str, str]:
    """What the Dockerfile sets: the code's PATH, no home, PTB_TIMEDELTA, /data, the port."""
    return {
        "PATH": f"{installed / 'bin'}:/usr/bin:/bin",
        "HOME": "/nonexistent",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PTB_TIMEDELTA": "1",
        "BRIDGE_DATA_DIR": str(data),
        "BRIDGE_HOST": "127.0.0.1",
        "BRIDGE_PORT": str(port),
    }
