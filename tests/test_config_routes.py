"""The routes file: what it accepts, and how it says what is wrong."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.config import ConfigError, Settings
from bridge.config_routes import load_routes
from bridge.routing.targets import OrderUpdates, Target
from tests.helpers import write_routes

ROUTING_DOC = Path(__file__).parents[1] / "docs" / "routing.md"


def readme_example() -> str:
    """The three-chat routes file docs/routing.md gives."""
    text = ROUTING_DOC.read_text(encoding="utf-8")
    section = text[text.index("# Routing: several chats") :]
    found = re.search(r"```toml\n(.*?)```", section, re.S)
    assert found is not None
    return found.group(1)


def problems_for(make_settings: Callable[..., Settings], tmp_path: Path, text: str) -> list[str]:
    path = write_routes(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_routes(make_settings(telegram_chat_id=None, bridge_config=path))
    return caught.value.problems


def test_the_readme_example_configures_three_chats(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    path = write_routes(tmp_path, readme_example())
    routes = load_routes(make_settings(telegram_chat_id=None, bridge_config=path)).routes
    orders, stock, admins = routes
    assert (orders.name, orders.target) == ("orders", Target(-1001111111111))
    assert orders.topics == ("order.*",)
    assert orders.exclude == ("order.deleted",)
    assert orders.statuses is not None
    assert "processing" in orders.statuses
    assert "pending" not in orders.statuses
    assert stock.target == Target(-1002222222222, silent=True)
    assert admins.target == Target(-1003333333333, thread_id=4)
    assert admins.min_total == Decimal(100)
    assert admins.order_updates is OrderUpdates.ALL
    assert orders.order_updates is OrderUpdates.STATUS_CHANGES


def test_telegram_chat_id_alone_receives_every_topic(
    make_settings: Callable[..., Settings],
) -> None:
    [route] = load_routes(make_settings(telegram_chat_id=-100555)).routes
    assert route.target == Target(-100555)
    assert route.topics == ("*",)


def test_both_ways_at_once_is_refused(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    path = write_routes(tmp_path, "[[routes]]\nchat_id = -100\n")
    with pytest.raises(ConfigError) as caught:
        load_routes(make_settings(telegram_chat_id=-100555, bridge_config=path))
    [problem] = caught.value.problems
    assert problem.startswith(f"TELEGRAM_CHAT_ID: is set, and {path} has [[routes]]; unset")


def test_a_file_without_routes_leaves_the_chat_to_telegram_chat_id(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    # The file may hold only settings and stores; TELEGRAM_CHAT_ID then hears every store.
    path = write_routes(tmp_path, '[settings]\nbridge_language = "vi"\n')
    [route] = load_routes(make_settings(telegram_chat_id=-100555, bridge_config=path)).routes
    assert route.target == Target(-100555)
    assert route.stores is None
    assert load_routes(make_settings(telegram_chat_id=None, bridge_config=path)).routes == ()


def test_defaults_and_lenient_spellings(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    path = write_routes(
        tmp_path,
        '[[routes]]\nchat_id = 777\n\n[[routes]]\nchat_id = -100\ntopics = "order.*"\n'
        'statuses = ["wc-Processing"]\nlanguage = "pt_BR"\nmin_total = 9.5\n',
    )
    first, second = load_routes(make_settings(telegram_chat_id=None, bridge_config=path)).routes
    assert (first.name, first.topics, first.exclude, first.statuses) == (
        "route 1",
        ("*",),
        (),
        None,
    )
    assert first.target == Target(777)
    assert second.topics == ("order.*",)
    assert second.statuses == frozenset({"processing"})
    assert second.target.language == "pt_BR"
    assert second.min_total == Decimal("9.5")


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("", "route 1, key chat_id: is required; send /start in the chat"),
        ('chat_id = "-100123"', "route 1, key chat_id: must be a chat id without quotes"),
        ("chat_id = -100\nthread_id = 1", "key thread_id: 1 is the General topic"),
        ("chat_id = -100\nthread_id = -5", "key thread_id: must be a forum topic's id"),
        (
            'chat_id = -100\ntopics = ["orders.*"]',
            'key topics: "orders.*" names no WooCommerce topic',
        ),
        (
            'chat_id = -100\ntopics = ["Order Created"]',
            'key topics: "Order Created" is not a topic',
        ),
        ("chat_id = -100\ntopics = []", "key topics: must be a list of topics"),
        ('chat_id = -100\nexclude = ["*"]', "key exclude: leaves no topic"),
        ('chat_id = -100\nsilent = "yes"', "key silent: must be true or false"),
        ('chat_id = -100\nlanguage = "English"', "key language: must be a language code"),
        ('chat_id = -100\nstatuses = ["paid!"]', "key statuses: 'paid!' is not an order status"),
        ('chat_id = -100\nmin_total = "100"', "key min_total: must be a number"),
        ("chat_id = -100\nmin_total = -1", "key min_total: must be a number"),
        ('chat_id = -100\nstock_alerts = "on"', "key stock_alerts: must be true or false"),
        (
            "chat_id = -100\nstock_alerts = true\nlow_stock_at = 2.5",
            "key low_stock_at: must be a whole number",
        ),
        ('chat_id = -100\nstock_alerts = true\nlow_stock_at = "5"', "key low_stock_at: must be"),
        ("chat_id = -100\nlow_stock_at = 5", "key low_stock_at: works only with stock_alerts"),
        (
            'chat_id = -100\ntopics = ["order.*"]\nstock_alerts = true',
            "key stock_alerts: needs product.updated in topics",
        ),
        (
            'chat_id = -100\norder_updates = "some"',
            'key order_updates: must be "status-changes" or "all"',
        ),
        (
            "chat_id = -100\nchat = 5",
            "key chat: is not a known key; a route may have name, chat_id",
        ),
    ],
)
def test_each_mistake_names_the_route_and_the_key(
    make_settings: Callable[..., Settings], tmp_path: Path, route: str, expected: str
) -> None:
    [problem] = problems_for(make_settings, tmp_path, f"[[routes]]\n{route}\n")
    assert problem.startswith(f"{tmp_path / 'routes.toml'}: ")
    assert expected in problem


def test_every_problem_is_reported_at_once(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    problems = problems_for(
        make_settings,
        tmp_path,
        '[[routes]]\nname = "orders"\nchat_id = -100\nthread_id = 1\n\n'
        '[[routes]]\nname = "stock"\nsilent = 1\n',
    )
    assert [p.split(": ", 1)[1].split(":")[0] for p in problems] == [
        'route 1 ("orders"), key thread_id',
        'route 2 ("stock"), key chat_id',
        'route 2 ("stock"), key silent',
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("routes = []", "routes: no route; add a [[routes]] table"),
        ("[routes]\nchat_id = 1\n", "routes: write each route as [[routes]], with two"),
        ("[[routes]\nchat_id = 1\n", "is not valid TOML"),
        ("[[routes]]\nchat_id = -100\n[extra]\nx = 1\n", "extra: is not a known key"),
    ],
)
def test_a_broken_file_is_refused(
    make_settings: Callable[..., Settings], tmp_path: Path, text: str, expected: str
) -> None:
    problems = problems_for(make_settings, tmp_path, text)
    assert any(expected in p for p in problems), problems


def test_a_missing_file_names_the_variable(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_routes(make_settings(telegram_chat_id=None, bridge_config=tmp_path / "nope.toml"))
    [problem] = caught.value.problems
    assert problem.startswith(f"BRIDGE_CONFIG: cannot read {tmp_path / 'nope.toml'}")


def test_serve_refuses_an_invalid_file(tmp_path: Path) -> None:
    path = write_routes(tmp_path, '[[routes]]\nname = "admins"\nchat_id = -100\nthread_id = 1\n')
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "serve"],
        cwd=tmp_path,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(Path(__file__).parents[1]),
            "TELEGRAM_BOT_TOKEN": "123456:SECRET-TOKEN-VALUE",
            "WOOCOMMERCE_WEBHOOK_SECRET": "abc",
            "BRIDGE_CONFIG": str(path),
            "BRIDGE_DATA_DIR": str(tmp_path / "data"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert f'{path}: route 1 ("admins"), key thread_id: 1 is the General topic' in result.stderr
    assert "SECRET-TOKEN-VALUE" not in result.stderr + result.stdout


def test_a_route_may_name_the_stores_it_takes(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    path = write_routes(
        tmp_path,
        '[[routes]]\nchat_id = -1\nstores = ["br", "default"]\n\n'
        '[[routes]]\nchat_id = -2\nstores = "vn"\n\n[[routes]]\nchat_id = -3\n',
    )
    settings = make_settings(telegram_chat_id=None, bridge_config=path)
    both, vn, every = load_routes(settings, ("default", "br", "vn")).routes
    assert both.stores == frozenset({"br", "default"})
    assert vn.stores == frozenset({"vn"})
    assert every.stores is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            '["br", "vnn"]',
            'key stores: "vnn" is not a store; the stores are: default, br, vn (the [[stores]] '
            'names, and "default" for /webhook when WOOCOMMERCE_WEBHOOK_SECRET is set)',
        ),
        ("[]", 'key stores: must be a list of store names, e.g. stores = ["shop-vn"]'),
        ("[1]", "key stores: must be a list of store names"),
    ],
)
def test_a_route_naming_an_unknown_store_is_refused(
    make_settings: Callable[..., Settings], tmp_path: Path, value: str, expected: str
) -> None:
    path = write_routes(tmp_path, f"[[routes]]\nchat_id = -1\nstores = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_routes(
            make_settings(telegram_chat_id=None, bridge_config=path), ("default", "br", "vn")
        )
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}: route 1, {expected}")
