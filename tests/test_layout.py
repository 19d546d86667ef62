"""The package's own import graph has no cycle: every module can be read (and imported) after
the ones it uses, and a reader following an import never comes back where they started."""

from __future__ import annotations

import ast
from pathlib import Path

import divio_settings

PACKAGE = Path(divio_settings.__file__).parent


def module_name(path: Path) -> str:
    parts = ["divio_settings", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def internal_imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that *path* imports, at any depth of its code (the lazy imports
    inside functions included), resolved the way Python resolves them."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            # "from . import env" imports the module env; "from .env import get", env.
            names = [f"{target}.{alias.name}" for alias in node.names]
            found.update(names if all(name in modules for name in names) else [target])
    return {module for module in found if module in modules} - {name}


def graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in files}
    return {module_name(path): internal_imports(path, modules) for path in files}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of *edges* as a list of modules, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for imported in sorted(edges[module]):
            if state.get(imported) == 1:
                return [*path[path.index(imported) :], imported]
            if imported not in state and (found := visit(imported)):
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(edges):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_the_finder_sees_a_cycle() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_graph_is_read_from_the_code() -> None:
    edges = graph()
    # apply() imports its groups where a reader can follow them, lazy ones included.
    assert {"divio_settings.databases", "divio_settings.caches"} <= edges["divio_settings"]
    assert "divio_settings.cli.project" in edges["divio_settings.cli.init"]
    assert "divio_settings.storage" in edges["divio_settings.storage.backend"]


def test_the_package_has_no_import_cycle() -> None:
    assert cycle(graph()) is None
