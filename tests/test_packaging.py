"""What a packager checks: declared dependencies, their floors and pins, and the files
people copy (.env.example, compose.yaml, the systemd unit, the Dockerfile)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from bridge.config import Settings
from tests import env_example

REPO = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
DEPENDENCIES = [Requirement(text) for text in PROJECT["dependencies"]]


def declared() -> dict[str, Requirement]:
    return {canonicalize_name(r.name): r for r in DEPENDENCIES}


def constraints(name: str) -> dict[str, Version]:
    """constraints/<name>: each line name==version (comments and blank lines aside)."""
    pins = {}
    for line in (REPO / "constraints" / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            package, version = line.split("==")
            pins[canonicalize_name(package)] = Version(version)
    return pins


def imported_modules() -> set[str]:
    """The top-level modules bridge/ imports from outside the standard library."""
    found = set()
    for path in (REPO / "bridge").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"bridge", "__future__"}


def test_every_import_of_the_bridge_is_a_declared_dependency() -> None:
    distributions = packages_distributions()
    undeclared = {
        module: distributions.get(module, ["(not installed)"])
        for module in imported_modules()
        if not {canonicalize_name(d) for d in distributions.get(module, [])} & declared().keys()
    }
    assert not undeclared, f"imported by bridge/ but not in pyproject's dependencies: {undeclared}"


def test_every_dependency_has_a_floor_and_the_lowest_constraints_repeat_it() -> None:
    floors = {}
    for name, requirement in declared().items():
        [floor] = [s.version for s in requirement.specifier if s.operator == ">="]
        floors[name] = Version(floor)
    assert constraints("lowest.txt") == floors, "constraints/lowest.txt must pin each floor"


def test_the_pinned_constraints_pin_every_dependency_within_its_range() -> None:
    pins = constraints("pinned.txt")
    for name, requirement in declared().items():
        assert name in pins, f"{name} is not pinned in constraints/pinned.txt"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} out of range"


def test_the_env_example_lists_every_setting_with_its_default() -> None:
    text = (REPO / ".env.example").read_text()
    assert text == env_example.render(), "regenerate: python -m tests.env_example > .env.example"
    named = set(re.findall(r"^(?:# )?([A-Z_]+)=", text, re.M))
    assert {name.upper() for name in Settings.model_fields} <= named


def test_the_env_example_uncommented_gives_the_defaults(tmp_path: Path) -> None:
    """Each value shown, read back as the bridge reads a .env file, is the default."""
    text = (REPO / ".env.example").read_text()
    assert not re.findall(r"^[A-Z_]+=", text, re.M), "a copy must change nothing as it is"
    uncommented = tmp_path / ".env"
    uncommented.write_text(re.sub(r"^# ([A-Z_]+=.+)$", r"\1", text, flags=re.M))
    required = {
        "telegram_bot_token": "123456:ABC",
        "woocommerce_webhook_secret": "s",
        "telegram_chat_id": -1,
    }
    settings = Settings(_env_file=uncommented, **required)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None, **required)  # type: ignore[call-arg]
    assert settings == defaults


def test_the_compose_file_mounts_its_secrets_and_checks_health() -> None:
    text = (REPO / "compose.yaml").read_text()
    [listed] = re.findall(r"secrets: \[(.*)\]", text)
    mounted = [name.strip() for name in listed.split(",")]
    declared_secrets = re.findall(r"^  (\w+):\n    file: \./secrets/(\w+)$", text, re.M)
    assert [(name, name) for name in mounted] == declared_secrets
    assert {name.upper() for name in mounted} <= {n.upper() for n in Settings.model_fields}
    assert "- bridge-data:/data" in text
    assert "ulimits: {nofile: 4096}" in text
    assert re.search(r'test: \["CMD", "python", .*/healthz', text)


def test_the_systemd_unit_runs_the_console_script_with_a_documented_env_file() -> None:
    unit = (REPO / "deploy" / "woo-bridge.service").read_text()
    [script] = PROJECT["scripts"]
    assert re.search(rf"^ExecStart=\S+/{script} serve$", unit, re.M)
    [env_file] = re.findall(r"^EnvironmentFile=(\S+)$", unit, re.M)
    assert env_file in (REPO / "docs" / "deployment.md").read_text()
    for option in ("DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict"):
        assert f"\n{option}\n" in unit
    assert "\nStateDirectory=woo-bridge\n" in unit


def test_the_dockerfile_installs_dependencies_before_the_code_and_compiles_it() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert "--no-compile" not in text
    steps = [line.split(" ", 1) for line in text.splitlines() if re.match(r"^[A-Z]+ ", line)]
    copies = [args for op, args in steps if op == "COPY"]
    assert copies[0] == "constraints/pinned.txt ./constraints/"  # alone: the cached layer
    assert text.index("-r constraints/pinned.txt") < text.index("COPY bridge")
    assert text.count("compileall") == 2


def test_the_docker_context_leaves_out_secrets() -> None:
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {"secrets/", ".env", "data/", ".venv"} <= set(ignored)
