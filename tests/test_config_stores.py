"""The stores: the default one from the variables, more from [[stores]], every mistake named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from yarl import URL

from bridge.config import ConfigError, Settings
from bridge.config_stores import Stores, load_stores
from tests.helpers import doc_block, write_config

Make = Callable[..., Settings]


def stores_from(make_settings: Make, path: Path, **overrides: object) -> Stores:
    return load_stores(make_settings(bridge_config=path, **overrides))


def problems_for(make_settings: Make, tmp_path: Path, text: str, **secret_files: str) -> list[str]:
    path = write_config(tmp_path, text, **secret_files)
    with pytest.raises(ConfigError) as caught:
        stores_from(make_settings, path)
    return caught.value.problems


def test_the_default_store_is_the_variables(make_settings: Make) -> None:
    stores = load_stores(
        make_settings(
            woocommerce_webhook_secret="now",
            woocommerce_webhook_previous_secret="before",
            woocommerce_store_url="https://shop.example.com/",
        )
    )
    [store] = stores
    assert (store.name, store.path) == ("default", "/webhook")
    assert store.secrets() == ["now", "before"]
    assert store.store_url == URL("https://shop.example.com")


def test_stores_from_the_file_beside_the_default_one(make_settings: Make, tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[[stores]]\nname = "shop-vn"\nsecret_file = "vn.txt"\nstore_url = "https://shop.example.vn"\n'
        '\n[[stores]]\nname = "shop_br2"\nsecret = " br "\nprevious_secret_file = "old.txt"\n',
        **{"vn.txt": "vn-secret\n", "old.txt": "br-old"},
    )
    stores = stores_from(make_settings, path)
    assert stores.names == ("default", "shop-vn", "shop_br2")
    default, vn, br = stores
    assert default.secrets() == ["test_secret"]
    # A file's trailing newline is not part of the secret; a relative path is beside the file.
    assert (vn.path, vn.secrets(), vn.store_url) == (
        "/webhook/shop-vn",
        ["vn-secret"],
        URL("https://shop.example.vn"),
    )
    assert (br.path, br.secrets(), br.store_url) == ("/webhook/shop_br2", ["br", "br-old"], None)
    assert vn.set_in == f"from {tmp_path / 'vn.txt'}"
    assert "vn-secret" not in repr(vn)  # secrets stay out of logs and tracebacks


def test_without_the_variable_only_the_file_stores_are_served(
    make_settings: Make, tmp_path: Path
) -> None:
    path = write_config(tmp_path, '[[stores]]\nname = "a"\nsecret = "s"\n')
    stores = stores_from(make_settings, path, woocommerce_webhook_secret=None)
    assert stores.names == ("a",)
    assert stores.get("default") is None


def test_the_readme_examples_configure_their_stores(make_settings: Make, tmp_path: Path) -> None:
    for name in ("shop_vn_webhook_secret", "shop_br_webhook_secret"):
        (tmp_path / name).write_text(f"{name}-value\n")
    for doc, heading in (
        ("docs/stores.md", "# Several stores"),
        ("docs/deployment.md", "## Two stores, HTTPS and Docker secrets"),
    ):
        text = doc_block(doc, heading, "toml").replace("/run/secrets/", f"{tmp_path}/")
        path = write_config(tmp_path, text)
        stores = stores_from(make_settings, path, woocommerce_webhook_secret=None)
        assert [(s.name, s.path) for s in stores] == [
            ("shop-vn", "/webhook/shop-vn"),
            ("shop-br", "/webhook/shop-br"),
        ]
        vn = stores.get("shop-vn")
        assert vn is not None
        assert vn.secrets() == ["shop_vn_webhook_secret-value"]
        assert vn.store_url == URL("https://shop.example.vn")


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('secret = "s"', "store 1, key name: is required; it ends the store's delivery URL"),
        ('name = "Shop VN"\nsecret = "s"', "key name: must be 1 to 64 characters of a-z, 0-9"),
        ('name = "default"\nsecret = "s"', 'key name: "default" is the store at /webhook'),
        ('name = "a"', "key secret: is required: set secret, or secret_file with the path"),
        ('name = "a"\nsecret = ""', "key secret: must be the webhooks' secret in quotes"),
        ('name = "a"\nsecret = 5', "key secret: must be the webhooks' secret in quotes"),
        ('name = "a"\nsecret = "s"\nsecret_file = "f"', "key secret: give secret or secret_file"),
        ('name = "a"\nsecret_file = "nope.txt"', "key secret_file: cannot read "),
        ('name = "a"\nsecret_file = "."', "key secret_file: cannot read "),
        ('name = "a"\nsecret_file = "empty.txt"', "key secret_file: "),
        (
            'name = "a"\nsecret = "s"\nprevious_secret = "p"\nprevious_secret_file = "f"',
            "key previous_secret: give previous_secret or previous_secret_file, not both",
        ),
        ('name = "a"\nsecret = "s"\nstore_url = "shop.example.com"', "key store_url: the store"),
        ('name = "a"\nsecret = "s"\nurl = "https://x.example"', "key url: is not a known key"),
    ],
)
def test_each_mistake_names_the_store_and_the_key(
    make_settings: Make, tmp_path: Path, table: str, expected: str
) -> None:
    [problem] = problems_for(
        make_settings, tmp_path, f"[[stores]]\n{table}\n", **{"empty.txt": "\n"}
    )
    assert problem.startswith(f"{tmp_path / 'bridge.toml'}: store 1")
    assert expected in problem


def test_an_unreadable_secret_file_says_where_and_what_to_do(
    make_settings: Make, tmp_path: Path
) -> None:
    [problem] = problems_for(make_settings, tmp_path, '[[stores]]\nname = "a"\nsecret_file = "x"\n')
    assert problem == (
        f'{tmp_path / "bridge.toml"}: store 1 ("a"), key secret_file: cannot read '
        f"{tmp_path / 'x'} (No such file or directory); check the path, and that the bridge's "
        "user may read it (uid 10001 in the container)"
    )


def test_two_stores_cannot_share_a_name(make_settings: Make, tmp_path: Path) -> None:
    [problem] = problems_for(
        make_settings,
        tmp_path,
        '[[stores]]\nname = "br"\nsecret = "a"\n\n[[stores]]\nname = "br"\nsecret = "b"\n',
    )
    assert problem.endswith(
        'store 2 ("br"), key name: store 1 has this name too; each store needs a name of its '
        "own (it is its delivery path)"
    )


def test_every_problem_is_reported_at_once(make_settings: Make, tmp_path: Path) -> None:
    problems = problems_for(
        make_settings,
        tmp_path,
        '[[stores]]\nname = "a"\n\n[[stores]]\nname = "B"\nsecret = "s"\n',
    )
    assert [p.split(": ", 1)[1].split(":")[0] for p in problems] == [
        'store 1 ("a"), key secret',
        'store 2 ("B"), key name',
    ]


def test_stores_written_with_one_bracket_are_refused(make_settings: Make, tmp_path: Path) -> None:
    [problem] = problems_for(make_settings, tmp_path, '[stores]\nname = "a"\nsecret = "s"\n')
    assert problem.endswith("stores: write each store as [[stores]], with two brackets")
