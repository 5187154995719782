"""The shape of the house (docs/architecture.md): import directions, no import circles, small modules.

The graph is read from the source with ``ast``: every module-level import (``TYPE_CHECKING``
blocks included: a circle of types is still a circle), not imports inside functions, which the
plugins use on purpose to stay light.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "tenderhall": ROOT / "src" / "tenderhall",
    "bidding": ROOT / "bidding",
    "evaluation": ROOT / "evaluation",
    "collusion": ROOT / "collusion",
    "archive": ROOT / "archive",
}
# Which packages each may import at module level (DESIGN: kernel ← bidding ← evaluation, and
# collusion → bidding; the archive reads them all); the kernel reaches the domains only inside
# compose.py's functions.
MAY_IMPORT = {
    "tenderhall": {"tenderhall"},
    "bidding": {"tenderhall", "bidding"},
    "evaluation": {"tenderhall", "bidding", "evaluation"},
    "collusion": {"tenderhall", "bidding", "collusion"},
    "archive": {"tenderhall", "bidding", "evaluation", "collusion", "archive"},
}
MAX_LINES = 600


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for base in PACKAGES.values():
        for path in base.rglob("*.py"):
            parts = path.relative_to(base.parent).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _module_level(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            pending += [*node.body, *node.orelse]
        elif isinstance(node, ast.Try):
            pending += [
                *node.body,
                *node.orelse,
                *node.finalbody,
                *(s for h in node.handlers for s in h.body),
            ]
    return found


def import_graph() -> nx.DiGraph[str]:
    mods = modules()

    def known(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: nx.DiGraph[str] = nx.DiGraph()
    for name, path in mods.items():
        graph.add_node(name)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _module_level(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [known(alias.name) for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                # ``from pkg import module`` imports the module; ``from module import name`` the module.
                targets = [
                    known(f"{base}.{alias.name}") if f"{base}.{alias.name}" in mods else known(base)
                    for alias in node.names
                ]
            for target in targets:
                if target is not None and target != name:
                    graph.add_edge(name, target)
    return graph


def test_the_scan_sees_the_packages() -> None:
    graph = import_graph()
    assert graph.has_edge("collusion.policy", "collusion.alert_states")  # from a package import a module
    assert graph.has_edge("tenderhall.services", "tenderhall.ledger.service")
    assert graph.number_of_nodes() > 100


def test_imports_go_one_way_between_packages() -> None:
    wrong = sorted(
        (a, b) for a, b in import_graph().edges if b.partition(".")[0] not in MAY_IMPORT[a.partition(".")[0]]
    )
    assert wrong == []


def test_no_import_circle() -> None:
    circles = [sorted(c) for c in nx.strongly_connected_components(import_graph()) if len(c) > 1]
    assert circles == []


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_stay_small(name: str) -> None:
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it by use case"
