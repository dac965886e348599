"""compose.replicas.yaml and deploy/Caddyfile: PostgreSQL with its password as a secret, two
replicas with the same settings (valid ones, the password read from that secret), a proxy
that balances the public paths across them and checks /readyz; no password written inline.

Docker is not run here; the file is read with tests/yaml_subset.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bridge.config import Settings, load_settings
from bridge.queue.postgres import dsn
from tests.yaml_subset import loads

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "compose.replicas.yaml"
CADDYFILE = REPO / "deploy" / "Caddyfile"
REPLICAS = ("bridge-1", "bridge-2")


@pytest.fixture
def compose() -> dict[str, Any]:
    parsed: dict[str, Any] = loads(COMPOSE.read_text())
    return parsed


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


def test_postgresql_15_reads_its_password_from_a_secret(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", *REPLICAS, "proxy"}
    postgres = compose["services"]["postgres"]
    assert postgres["image"].startswith("postgres:15")
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert "POSTGRES_PASSWORD" not in postgres["environment"]
    assert postgres["secrets"] == ["postgres_password"]
    assert "pg_isready" in postgres["healthcheck"]["test"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])


def test_the_replicas_share_every_setting_but_their_name(compose: dict[str, Any]) -> None:
    first, second = (compose["services"][name] for name in REPLICAS)
    assert first["environment"].pop("BRIDGE_REPLICA_NAME") == "bridge-1"
    assert second["environment"].pop("BRIDGE_REPLICA_NAME") == "bridge-2"
    assert first == second
    assert first["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "/readyz" in " ".join(first["healthcheck"]["test"])
    assert "ports" not in first  # reached through the proxy only
    assert set(first["secrets"]) == {
        "telegram_bot_token",
        "woocommerce_webhook_secret",
        "postgres_password",
    }


def test_the_replicas_settings_are_valid_with_the_password_from_the_secret(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What the bridge makes of the replica's environment and its mounted secrets."""
    secrets = tmp_path / "run-secrets"
    secrets.mkdir()
    (secrets / "telegram_bot_token").write_text("123456:ABC-compose-token")
    (secrets / "woocommerce_webhook_secret").write_text("compose-webhook-secret")
    (secrets / "postgres_password").write_text("compose-Pg-pass\n")
    monkeypatch.setenv("BRIDGE_SECRETS_DIR", str(secrets))
    for name, value in compose["services"]["bridge-1"]["environment"].items():
        assert name.lower() in Settings.model_fields, name
        monkeypatch.setenv(name, value.replace("/run/secrets", str(secrets)))
    settings = load_settings(env_file=None)
    assert settings.database_url == "postgresql://bridge:compose-Pg-pass@postgres:5432/bridge"
    assert settings.bridge_replica_name == "bridge-1"
    assert settings.bridge_metrics_port != settings.bridge_port


def test_no_password_is_written_inline(compose: dict[str, Any]) -> None:
    for text in _strings(compose):
        if text.startswith(("postgresql://", "postgres://")):
            assert dsn.problem(text) is None
            assert dsn.password_of(text) is None, text
    for service in compose["services"].values():
        for name in service.get("environment", {}):
            assert "PASSWORD" not in name or name.endswith("_FILE"), name
            assert "TOKEN" not in name, name
            assert "SECRET" not in name, name
    declared = compose["secrets"]
    for service in compose["services"].values():
        assert set(service.get("secrets", [])) <= set(declared)
    assert {name: entry["file"] for name, entry in declared.items()} == {
        name: f"./secrets/{name}" for name in declared
    }


def test_the_proxy_balances_the_public_paths_and_checks_readiness(
    compose: dict[str, Any],
) -> None:
    proxy = compose["services"]["proxy"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert set(proxy["depends_on"]) == set(REPLICAS)
    caddy = CADDYFILE.read_text()
    [upstreams] = re.findall(r"reverse_proxy (.+) \{", caddy)
    port = Settings.model_fields["bridge_port"].default
    assert upstreams.split() == [f"{name}:{port}" for name in REPLICAS]
    [paths] = re.findall(r"@bridge path (.+)", caddy)
    assert paths.split() == ["/webhook", "/webhook/*", "/telegram"]
    assert "health_uri /readyz" in caddy
    assert "lb_policy round_robin" in caddy
    # /metrics, /healthz and /readyz are not forwarded: everything else is a 404
    assert re.search(r"handle \{\s+respond 404\s+\}", caddy)
