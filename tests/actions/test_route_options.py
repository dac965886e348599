"""A route's order_actions and order_actions_by, read from BRIDGE_CONFIG."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.config import ConfigError, Settings
from bridge.config_routes import load_routes
from bridge.routing.targets import Routes
from tests.helpers import write_routes

ROUTE = """
[[routes]]
name = "orders"
chat_id = -100
topics = ["order.*"]
{extra}
"""


def routes_with(extra: str, tmp_path: Path, make_settings: Callable[..., Settings]) -> Routes:
    path = write_routes(tmp_path, ROUTE.format(extra=extra))
    return load_routes(make_settings(telegram_chat_id=None, bridge_config=path))


def test_a_route_sets_its_buttons_or_none(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    routes = routes_with('order_actions = { on-hold = ["processing"] }', tmp_path, make_settings)
    target = routes.target_of(-100)
    assert target is not None
    assert target.order_actions == (("on-hold", ("processing",)),)
    assert target.actions_by_chat is False
    off = routes_with("order_actions = false", tmp_path, make_settings)
    off_target = off.target_of(-100)
    assert off_target is not None
    assert off_target.order_actions == ()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('order_actions = "completed"', "key order_actions: must be false or a table of statuses"),
        ("order_actions = { processing = [1] }", "'processing' must name a status and list"),
        ('order_actions_by = "everyone"', 'key order_actions_by: must be "staff"'),
    ],
)
def test_mistakes_are_named_with_an_example(
    tmp_path: Path, make_settings: Callable[..., Settings], extra: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        routes_with(extra, tmp_path, make_settings)
    assert message in str(caught.value)
