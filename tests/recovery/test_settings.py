"""The REST API key as a store's setting: [[stores]] keys, read like the other secrets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from bridge.config import ConfigError, Settings
from bridge.config_stores import read_stores
from tests.helpers import write_config


def test_a_store_takes_its_key_and_a_secret_file(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[[stores]]\nname = "vn"\nsecret = "s"\nstore_url = "https://shop.vn"\n'
        'consumer_key = "ck_abc"\nconsumer_secret_file = "cs.txt"\n',
        **{"cs.txt": "cs_from_file\n"},
    )
    [store] = read_stores(path)
    assert store.has_rest_key
    assert store.consumer_secret is not None
    assert store.consumer_secret.get_secret_value() == "cs_from_file"
    assert store.rest_secrets() == ["cs_from_file"]
    assert "cs_from_file" not in repr(store)


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ('consumer_key = "ck_abc"\nstore_url = "https://shop.vn"\n', "go together"),
        ('consumer_key = "ck_abc"\nconsumer_secret = "cs_x"\n', "is required with a REST API"),
        ('consumer_key = "abc"\nconsumer_secret = "cs_x"\n', '"ck_..."'),
    ],
)
def test_a_half_or_misplaced_key_is_refused_with_what_to_do(
    tmp_path: Path, lines: str, problem: str
) -> None:
    path = write_config(tmp_path, f'[[stores]]\nname = "vn"\nsecret = "s"\n{lines}')
    with pytest.raises(ConfigError) as caught:
        read_stores(path)
    assert any(problem in line for line in caught.value.problems), caught.value.problems
    assert "cs_x" not in " ".join(caught.value.problems)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"woocommerce_consumer_key": "ck_a"}, "go together"),
        (
            {"woocommerce_consumer_key": "ck_a", "woocommerce_consumer_secret": "cs_hidden"},
            "needs WOOCOMMERCE_STORE_URL",
        ),
        ({"bridge_public_url": "bridge.example.com"}, "the address WooCommerce delivers to"),
        ({"bridge_reconcile_interval_seconds": -1}, "greater than or equal to 0"),
    ],
)
def test_bad_gap_filling_settings_are_refused_with_what_to_do(
    make_settings: Callable[..., Settings], values: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make_settings(**values)
    assert problem in str(caught.value)
    assert "cs_hidden" not in str(caught.value)
