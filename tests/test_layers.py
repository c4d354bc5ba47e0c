"""The layering docs/architecture.md draws, held against the code: no import circle, nothing below the
alerts importing them, and imports inside functions only where a heavy stack is loaded late."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where an import inside a function is meant (docs/architecture.md, "Floors"): each loads a heavy
# stack only where it is needed, or must wait for Twisted's reactor to be installed.
INNER_ALLOWED = {"tracker.cli", "tracker.crawl", "tracker.store", "tracker.config", "tracker.demo",
                 "tracker.models", "spiders.middlewares"}
BELOW_ALERTS = ("tracker.store", "tracker.runs", "tracker.health", "tracker.outbox", "tracker.targets",
                "tracker.lock", "tracker.crawl", "tracker.ingestworker", "tracker.views", "tracker.queries",
                "tracker.reminders")


def _modules() -> dict[str, Path]:
    found = {}
    for path in [*ROOT.glob("tracker/**/*.py"), *ROOT.glob("spiders/*.py")]:
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def _imports(modules: dict[str, Path]) -> tuple[dict[str, set[str]], Counter[str]]:
    """Each module's project imports (resolved to modules), and how many of its imports sit in functions."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = {name: set() for name in modules}
    inner: Counter[str] = Counter()
    for name, path in modules.items():
        for node, in_function in _import_nodes(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif node.module and not node.level:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            if in_function:
                inner[name] += 1
            for target in targets:
                if target.split(".")[0] in ("tracker", "spiders") and (module := resolve(target)) not in (None, name):
                    edges[name].add(module)
    return edges, inner


def _import_nodes(node: ast.AST, in_function: bool = False) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement under `node`, and whether it sits inside a function."""
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            found.append((child, in_function))
        else:
            found += _import_nodes(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))
    return found


def test_no_import_circle_and_nothing_below_the_alerts_imports_them() -> None:
    modules = _modules()
    edges, _ = _imports(modules)
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        assert name not in path, "import circle: " + " -> ".join([*path[path.index(name):], name])
        if name in done:
            return
        for imported in edges[name]:
            visit(imported, [*path, name])
        done.add(name)

    for name in modules:
        visit(name, [])
    upward = {(name, imported) for name in BELOW_ALERTS for imported in edges.get(name, ())
              if imported.startswith("tracker.alerts")}
    assert not upward


def test_imports_inside_functions_only_where_a_heavy_stack_loads_late() -> None:
    _, inner = _imports(_modules())
    assert set(inner) <= INNER_ALLOWED, sorted(set(inner) - INNER_ALLOWED)
