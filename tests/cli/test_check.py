"""`woo-bridge check`: actionable findings about the settings and every template."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.cli.check import CHECKS, Context, Level, check_renders, run_checks
from tests.helpers import doc_block, write_config

TOKEN = "123456:SECRET-TOKEN-VALUE"


@pytest.fixture(autouse=True)
def _valid_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WOOCOMMERCE_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("WOOCOMMERCE_STORE_URL", "https://shop.example.com")


def overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    for name, source in files.items():
        (folder / name).write_text(source, encoding="utf-8")
    monkeypatch.setenv("BRIDGE_TEMPLATES_DIR", str(folder))
    return folder


def lines(out: str, level: str) -> list[str]:
    return [line.split(None, 1)[1] for line in out.splitlines() if line.startswith(level + " ")]


def test_a_good_configuration_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert lines(out, "error") == []
    assert lines(out, "warning") == []
    assert "the settings are valid" in lines(out, "ok")
    # Every message template x 3 languages, each from a sample payload.
    assert "72 renders of sample payloads are valid Telegram HTML" in lines(out, "ok")
    assert out.endswith("0 error(s), 0 warning(s)\n")


def test_a_bad_setting_is_an_error_and_the_templates_are_still_checked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WOOCOMMERCE_WEBHOOK_SECRET")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "oops-SECRET-TOKEN-VALUE")
    assert main(["check"]) == 2
    out = capsys.readouterr().out
    assert lines(out, "error") == [
        "TELEGRAM_BOT_TOKEN: does not look like a bot token (expected 123456:ABC-...); "
        "ask @BotFather",
        "WOOCOMMERCE_WEBHOOK_SECRET: is required but not set",
    ]
    assert "SECRET-TOKEN-VALUE" not in out
    assert any("templates compile" in line for line in lines(out, "ok"))


def test_a_template_that_does_not_compile_is_named_with_its_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = overrides(monkeypatch, tmp_path, **{"order.created.html": "ok\n{% if %}"})
    assert main(["check"]) == 2
    [error] = lines(capsys.readouterr().out, "error")
    assert error.startswith(f"{folder / 'order.created.html'}, line 2: ")


def test_a_template_that_fails_at_run_time_is_named_with_line_and_language(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = 'Order {{ order.number }}\n{% if language == "vi" %}{{ order.nmber }}{% endif %}'
    folder = overrides(monkeypatch, tmp_path, **{"order.created.html": source})
    assert main(["check"]) == 2
    [error] = lines(capsys.readouterr().out, "error")
    assert error.startswith(f"{folder / 'order.created.html'}, line 2 (vi): UndefinedError")
    assert "nmber" in error


def test_a_template_rendering_html_telegram_refuses_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    overrides(monkeypatch, tmp_path, **{"coupon.updated.html": "<p>{{ coupon.code }}</p>"})
    findings = check_renders(Context.load())
    assert {f.level for f in findings} == {Level.ERROR}
    assert len(findings) == 3  # once per language
    assert all("unsupported tag <p>" in f.text for f in findings)


@pytest.mark.parametrize(
    ("env", "warning"),
    [
        ({"WOOCOMMERCE_STORE_URL": ""}, 'WOOCOMMERCE_STORE_URL is not set: messages have no "Open'),
        (
            {"WOOCOMMERCE_STORE_URL": "http://localhost:8080"},
            "WOOCOMMERCE_STORE_URL: Telegram refuses buttons that link to localhost",
        ),
        ({"BRIDGE_LANGUAGE": "fr"}, "BRIDGE_LANGUAGE=fr: no translation exists"),
    ],
)
def test_what_works_but_not_as_intended_is_a_warning(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    warning: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["check"]) == 0
    [found] = lines(capsys.readouterr().out, "warning")
    assert found.startswith(warning)


def test_a_template_no_topic_would_use_is_a_warning(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    folder = overrides(
        monkeypatch,
        tmp_path,
        **{
            "order.crated.html": "x",
            "order.created.html": "ok",
            "action.woocommerce_payment_complete.html": "paid",
            "_mine.html": "{% macro m() %}m{% endmacro %}",
        },
    )
    assert main(["check"]) == 0
    [warning] = lines(capsys.readouterr().out, "warning")
    assert warning.startswith(f"{folder / 'order.crated.html'}: no topic is called 'order.crated'")


def test_each_check_runs_on_its_own() -> None:
    context = Context(settings_problems=["X: broken"])
    findings = run_checks(context)
    assert findings[0].level is Level.ERROR
    assert len(CHECKS) == 8
    assert {f.level for f in findings[1:]} <= {Level.OK, Level.WARNING}


# --- the effective configuration, the stores, and the BRIDGE_CONFIG file ---------------------

SECRET_VALUES = (
    "SECRET-TOKEN-VALUE",
    "s3cret",
    "prev-docker-SECRET",
    "inline-SECRET",
    "file-SECRET",
    "prev2-SECRET",
)


def squeezed(out: str) -> list[str]:
    """The printed lines with runs of spaces made one, as a reader sees the columns."""
    return [re.sub(r"\s+", " ", line).strip() for line in out.splitlines()]


def test_the_configuration_is_printed_masked_with_each_origin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "woocommerce_webhook_previous_secret").write_text("prev-docker-SECRET\n")
    monkeypatch.setenv("BRIDGE_SECRETS_DIR", str(secrets))
    write_config(
        tmp_path,
        '[settings]\nbridge_timezone = "Asia/Ho_Chi_Minh"\n\n'
        '[[stores]]\nname = "br"\nsecret = "inline-SECRET"\nprevious_secret = "prev2-SECRET"\n'
        'store_url = "https://loja.example.com.br"\n\n'
        '[[stores]]\nname = "vn"\nsecret_file = "vn.txt"\n',
        **{"vn.txt": "file-SECRET"},
    )
    (tmp_path / ".env").write_text("BRIDGE_CONFIG=bridge.toml\nBRIDGE_LANGUAGE=vi\n")
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    lines = squeezed(out)
    for expected in (
        "TELEGRAM_BOT_TOKEN = 123456:**** (env)",
        "WOOCOMMERCE_WEBHOOK_SECRET = **** (env)",
        "WOOCOMMERCE_WEBHOOK_PREVIOUS_SECRET = **** (secret)",
        "BRIDGE_CONFIG = bridge.toml (.env)",
        "BRIDGE_LANGUAGE = vi (.env)",
        "BRIDGE_TIMEZONE = Asia/Ho_Chi_Minh (file)",
        "BRIDGE_PORT = 8080 (default)",
        "TELEGRAM_CHAT_ID = (not set) (default)",
        "default /webhook buttons: https://shop.example.com; "
        "secret: WOOCOMMERCE_WEBHOOK_SECRET ****, "
        "previous secret: WOOCOMMERCE_WEBHOOK_PREVIOUS_SECRET **** (rotating)",
        "br /webhook/br buttons: https://loja.example.com.br; secret: in BRIDGE_CONFIG ****, "
        "previous secret: in BRIDGE_CONFIG **** (rotating)",
        "vn /webhook/vn no buttons (no store URL); secret: from vn.txt ****",
    ):
        assert expected in lines, expected
    for secret in SECRET_VALUES:
        assert secret not in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[stores]]\nname = "br"\nsecret_file = "missing.txt"\n',
            'bridge.toml: store 1 ("br"), key secret_file: cannot read ',
        ),
        (
            '[[stores]]\nname = "br"\nsecret = "a"\n[[stores]]\nname = "br"\nsecret = "b"\n',
            'bridge.toml: store 2 ("br"), key name: store 1 has this name too',
        ),
        (
            '[[stores]]\nname = "br"\nsecret = "a"\n[[routes]]\nchat_id = -1\nstores = ["vn"]\n',
            'bridge.toml: route 1, key stores: "vn" is not a store; the stores are: default, br',
        ),
        (
            "[[routes]]\nchat_id = -1\nthread_id = 1\n",
            "bridge.toml: route 1, key thread_id: 1 is the General topic",
        ),
    ],
)
def test_a_mistake_in_the_stores_or_routes_is_an_error(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    text: str,
    expected: str,
) -> None:
    monkeypatch.setenv("BRIDGE_CONFIG", str(write_config(tmp_path, text)))
    assert main(["check"]) == 2
    out = capsys.readouterr().out
    [error] = lines(out, "error")
    assert error.startswith(f"{tmp_path}/{expected}"), error
    assert any("templates compile" in line for line in lines(out, "ok"))


def test_a_route_naming_a_store_with_a_problem_reports_only_the_store(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = '[[stores]]\nname = "br"\nsecret_file = "x"\n[[routes]]\nchat_id = -1\nstores = ["br"]\n'
    monkeypatch.setenv("BRIDGE_CONFIG", str(write_config(tmp_path, text)))
    assert main(["check"]) == 2
    [error] = lines(capsys.readouterr().out, "error")
    assert "key secret_file: cannot read" in error


def test_what_a_store_lacks_is_a_warning(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("WOOCOMMERCE_WEBHOOK_SECRET")
    text = '[[stores]]\nname = "br"\nsecret = "new"\nprevious_secret = "old"\n'
    monkeypatch.setenv("BRIDGE_CONFIG", str(write_config(tmp_path, text)))
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert lines(out, "warning") == [
        "store br: a previous secret is still accepted; once WooCommerce signs with the new one "
        "(the log stops saying 'still signs with the previous secret'), remove previous_secret "
        "(or previous_secret_file) from its [[stores]] table and restart",
        'store br has no store_url: messages have no "Open in admin" button; add store_url = '
        '"https://..." to its [[stores]] table',
        "WOOCOMMERCE_STORE_URL is set, but no store is served at /webhook "
        "(WOOCOMMERCE_WEBHOOK_SECRET is not set), so no message uses it; give each [[stores]] "
        "table its store_url",
    ]
    assert "1 store(s): br at /webhook/br" in lines(out, "ok")


def test_the_readme_two_store_setup_checks_clean(tmp_path: Path) -> None:
    """`woo-bridge check` as the README's compose setup runs it, Docker secrets and all."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    values = {
        "telegram_bot_token": "123456:SECRET-TOKEN-VALUE",
        "shop_vn_webhook_secret": "vn-SECRET-VALUE",
        "shop_br_webhook_secret": "br-SECRET-VALUE",
    }
    for name, value in values.items():
        (secrets / name).write_text(value + "\n")
    text = doc_block("docs/deployment.md", "## Two stores, HTTPS and Docker secrets", "toml")
    config = write_config(tmp_path, text.replace("/run/secrets/", f"{secrets}/"))
    result = subprocess.run(
        [sys.executable, "-m", "bridge", "check"],
        cwd=tmp_path,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(Path(__file__).parents[2]),
            "BRIDGE_CONFIG": str(config),
            "BRIDGE_SECRETS_DIR": str(secrets),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    shown = squeezed(result.stdout)
    assert "TELEGRAM_BOT_TOKEN = 123456:**** (secret)" in shown
    assert "BRIDGE_TIMEZONE = Asia/Ho_Chi_Minh (file)" in shown
    assert any(
        line.startswith("shop-vn /webhook/shop-vn buttons: https://shop.example.vn;")
        for line in shown
    )
    assert any(
        line.startswith("shop-br /webhook/shop-br buttons: https://loja.example.com.br;")
        for line in shown
    )
    assert result.stdout.endswith("0 error(s), 0 warning(s)\n")
    for value in values.values():
        assert value.split(":")[-1] not in result.stdout + result.stderr


def test_the_readme_compose_file_mounts_what_bridge_toml_reads() -> None:
    heading = "## Two stores, HTTPS and Docker secrets"
    toml = doc_block("docs/deployment.md", heading, "toml")
    compose = doc_block("docs/deployment.md", heading, "yaml")
    commands = doc_block("docs/deployment.md", heading, "sh")
    [listed] = re.findall(r"secrets: \[(.*)\]", compose)
    mounted = [name.strip() for name in listed.split(",")]
    declared = re.findall(r"^  (\w+):\n    file: \./secrets/(\w+)$", compose, re.M)
    assert [(name, name) for name in mounted] == declared
    read = re.findall(r'secret_file = "/run/secrets/(\w+)"', toml)
    assert "telegram_bot_token" in mounted  # read as TELEGRAM_BOT_TOKEN, a Docker secret
    assert set(read) | {"telegram_bot_token"} == set(mounted)
    assert all(f"> secrets/{name}" in commands for name in mounted)
    [config_path] = re.findall(r"BRIDGE_CONFIG: (\S+)", compose)
    assert f"./bridge.toml:{config_path}:ro" in compose
    # The delivery URL of each store, as the docs tell the owner to give WooCommerce.
    readme = (Path(__file__).parents[2] / "docs" / "deployment.md").read_text(encoding="utf-8")
    stores = [store["name"] for store in tomllib.loads(toml)["stores"]]
    assert stores == ["shop-vn", "shop-br"]
    for name in stores:
        assert f"| `https://bridge.example.com/webhook/{name}` |" in readme


def test_stores_sharing_a_secret_is_a_warning(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = (
        '[[stores]]\nname = "br"\nsecret_file = "s.txt"\nstore_url = "https://br.example.com"\n'
        '[[stores]]\nname = "vn"\nsecret_file = "s.txt"\nstore_url = "https://vn.example.com"\n'
    )
    monkeypatch.setenv("BRIDGE_CONFIG", str(write_config(tmp_path, text, **{"s.txt": "same"})))
    assert main(["check"]) == 0
    assert lines(capsys.readouterr().out, "warning") == [
        "stores br and vn share a secret, so a delivery signed for one is also accepted at the "
        "other's path; give each store its own"
    ]


def test_a_telegram_webhook_on_the_woocommerce_path_is_an_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://b.example.com/webhook")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "tg-secret")
    assert main(["check"]) == 2
    [error] = lines(capsys.readouterr().out, "error")
    assert error.startswith("TELEGRAM_WEBHOOK_URL: its path /webhook is served for WooCommerce")
    assert "e.g. https://b.example.com/telegram" in error
