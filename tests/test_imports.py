"""tools/imports.py: the bridge's import graph has no cycle and no upward import."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tools" / "imports.py"


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("imports_tool", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_bridge_has_no_cycle_and_no_upward_import() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "bridge.app [entry] -> " in result.stdout
    assert "no cycle, no upward import" in result.stderr


def test_a_cycle_and_an_upward_import_are_reported(tmp_path: Path) -> None:
    tool = load_tool()
    write(
        tmp_path,
        {
            "bridge/__init__.py": "",
            "bridge/queue/__init__.py": "",
            # the queue reaching up into a worker
            "bridge/queue/store.py": "from bridge.send.sender import Sender\n",
            "bridge/send/__init__.py": "",
            "bridge/send/sender.py": "from bridge.send import alerts\n",
            "bridge/send/alerts.py": "import bridge.send.sender\n",
            "bridge/stray.py": "",
        },
    )
    found = tool.problems(tool.graph(tmp_path))
    assert (
        "bridge.queue.store (queue) imports bridge.send.sender (workers), a layer above it" in found
    )
    assert "import cycle between modules: bridge.send.alerts <-> bridge.send.sender" in found
    assert "import cycle between packages: bridge.queue <-> bridge.send" not in found
    assert "bridge.stray: in no layer; add it to LAYERS in tools/imports.py" in found


def test_a_cycle_between_packages_is_reported(tmp_path: Path) -> None:
    tool = load_tool()
    write(
        tmp_path,
        {
            "bridge/__init__.py": "",
            "bridge/render/__init__.py": "",
            "bridge/render/a.py": "from bridge.routing.b import x\n",
            "bridge/routing/__init__.py": "",
            "bridge/routing/b.py": "from bridge.render import c\n",
            "bridge/render/c.py": "",
        },
    )
    found = tool.problems(tool.graph(tmp_path))
    assert found == ["import cycle between packages: bridge.render <-> bridge.routing"]
