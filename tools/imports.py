"""Print the bridge's import graph and fail on a cycle or an import that runs upward.

    python tools/imports.py          # the layers, then each module and what it imports
    python tools/imports.py --dot    # the same graph for Graphviz: ... | dot -Tsvg > graph.svg

Every module of bridge/ belongs to one layer (LAYERS, top first, by the longest prefix
that names it). A module may import from its own layer and the layers below it, never
from one above, and no chain of imports may come back to where it started. Uses the
standard library only (ast), so it runs in any checkout; tests/test_imports.py runs it.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "bridge"

#: top first; a module's layer is that of the longest prefix listed
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # what starts the bridge and turns settings into objects; the listeners it serves on
    ("entry", ("bridge.__main__", "bridge.cli", "bridge.demo", "bridge.app", "bridge.duty", "bridge.wiring",
               "bridge.listen", "bridge.observability")),
    # HTTP handlers, the guard every request passes, and the typed keys through which
    # they reach the app's state
    ("views", ("bridge.views", "bridge.keys", "bridge.guard")),
    # the settings and the BRIDGE_CONFIG file's stores and routes: only entry and views
    # import them, so no feature package depends on the settings' names
    ("settings", ("bridge.config", "bridge.config_file", "bridge.config_stores",
                  "bridge.config_routes")),
    # what runs: the router, the sender, the bot, the pruner, and what restarts them; the
    # setup check, which asks Telegram and the stores whether the whole path works
    ("workers", ("bridge.routing.router", "bridge.send", "bridge.bot",
                 "bridge.queue.retention", "bridge.supervisor", "bridge.recovery.reconciler",
                 "bridge.setup_check", "bridge.reports.summary")),
    # what events mean: routing rules, rendering, WooCommerce payloads and REST, intake;
    # what is logged: metrics, logs, secrets masked, refusals
    ("domain", ("bridge.routing", "bridge.reports", "bridge.render", "bridge.payloads",
                "bridge.woo", "bridge.webhook", "bridge.metrics", "bridge.lifecycle", "bridge.logs",
                "bridge.redact", "bridge.refusals", "bridge.recovery")),
    # the queue's storage and its types, the clock, the version
    ("queue", ("bridge.queue", "bridge.clock", "bridge")),
)  # fmt: skip


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by its __init__)."""
    found = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: Iterable[str]) -> set[str]:
    """The package's modules that `name` imports, wherever in the file."""
    known = set(known)
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                # Relative: from the module's package, up `level - 1` more.
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            # `from bridge import wiring` imports the module bridge.wiring; a name that is
            # no module (`from bridge import __version__`) imports the package.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target.split(".")[0] == PACKAGE:
                found.add(target)
    return found


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def layer_of(name: str) -> int:
    best, rank = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            # The package itself (bridge/__init__.py) names no module below it.
            below = prefix != PACKAGE and name.startswith(prefix + ".")
            if (name == prefix or below) and len(prefix) > best:
                best, rank = len(prefix), index
    return rank


def upward_edges(edges: dict[str, set[str]]) -> list[str]:
    problems = []
    for name, targets in sorted(edges.items()):
        if layer_of(name) < 0:
            problems.append(f"{name}: in no layer; add it to LAYERS in tools/imports.py")
            continue
        for target in sorted(targets):
            if layer_of(target) < layer_of(name):
                problems.append(
                    f"{name} ({LAYERS[layer_of(name)][0]}) imports {target} "
                    f"({LAYERS[layer_of(target)][0]}), a layer above it"
                )
    return problems


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def packages(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph between the package's sub-packages and top-level modules."""

    def top(name: str) -> str:
        return ".".join(name.split(".")[:2])

    merged: dict[str, set[str]] = {}
    for name, targets in edges.items():
        merged.setdefault(top(name), set()).update(top(t) for t in targets if top(t) != top(name))
    return merged


def text(edges: dict[str, set[str]]) -> str:
    lines = ["Layers, top first (a module imports only from its own layer and those below):"]
    lines += [f"  {name:<9} {', '.join(prefixes)}" for name, prefixes in LAYERS]
    lines.append("")
    for name in sorted(edges, key=lambda n: (layer_of(n), n)):
        targets = ", ".join(sorted(edges[name])) or "-"
        lines.append(f"{name} [{LAYERS[layer_of(name)][0]}] -> {targets}")
    return "\n".join(lines)


def dot(edges: dict[str, set[str]]) -> str:
    lines = ["digraph bridge {", "  rankdir=TB; node [shape=box, fontsize=10];"]
    for rank, (layer, _) in enumerate(LAYERS):
        members = " ".join(f'"{n}"' for n in sorted(edges) if layer_of(n) == rank)
        lines.append(f'  subgraph "cluster_{layer}" {{ label="{layer}"; {members} }}')
    for name, targets in sorted(edges.items()):
        lines += [f'  "{name}" -> "{target}";' for target in sorted(targets)]
    lines.append("}")
    return "\n".join(lines)


def problems(edges: dict[str, set[str]]) -> list[str]:
    found = upward_edges(edges)
    found += [f"import cycle between modules: {' <-> '.join(c)}" for c in cycles(edges)]
    found += [f"import cycle between packages: {' <-> '.join(c)}" for c in cycles(packages(edges))]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dot", action="store_true", help="print Graphviz instead of text")
    args = parser.parse_args(argv)
    edges = graph()
    print(dot(edges) if args.dot else text(edges))
    found = problems(edges)
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    if not found:
        print("\nno cycle, no upward import", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
