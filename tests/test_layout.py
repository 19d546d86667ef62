"""The package's own import graph has no cycle: every module can be read (and imported) after
the ones it uses, and a reader following an import never comes back where they started."""

from __future__ import annotations

import ast
import re
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


# --- Layers (#29): who may import whom. A module's layer is the first prefix that names it. ---
KERNEL: tuple[str, ...] = (
    "variables",
    "env",
    "conventions",
    "groups",
    "conf",
    "redaction",
    "report",
    "secret_variables",
)
GROUPS: tuple[str, ...] = (
    "hosts",
    "security",
    "databases",
    "storage",
    "storage.access",
    "static",
    "caches",
)
GROUPS += ("mail", "logs", "sentry", "celery")
RUNTIME: tuple[str, ...] = (
    "apps",
    "checks",
    "middleware",
    "debug_page",
    "urls",
    "management",
    "staticstorage",
)
RUNTIME += ("storage.backend", "storage.s3", "storage.azure", "redis_cache", "log_handlers")
RUNTIME += ("service_checks", "resilient_cache", "db_cache", "published", "manifests")
RUNTIME += ("preflight", "health")
LAYER_OF = {
    **{f"divio_settings.{name}": "kernel" for name in KERNEL},
    **{f"divio_settings.{name}": "group" for name in GROUPS},
    **{f"divio_settings.{name}": "runtime" for name in RUNTIME},
    "divio_settings": "api",
    "divio_settings.cli": "cli",
    "divio_settings.__main__": "cli",
}
# The allowed edges: the kernel reads nothing outside itself; a group reads the kernel (and its
# own package's modules), never another group; apply() composes kernel and groups; the runtime
# may read groups' constants but never compute()/apply(); the command may use compute() and the
# runtime's checks, never a group's internals.
ALLOWED = {
    "kernel": {"kernel"},
    "group": {"kernel"},
    "api": {"kernel", "group"},
    "runtime": {"kernel", "group", "runtime"},
    "cli": {"kernel", "api", "runtime", "cli"},
}


def layer(module: str) -> str:
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        found = LAYER_OF.get(".".join(parts[:end]))
        if found:
            return found
    raise AssertionError(f"{module} has no layer: add it to tests/test_layout.py")


def same_group(module: str, imported: str) -> bool:
    """storage and storage.access are one group (a package's own modules)."""
    return imported.startswith(module + ".") or module.startswith(imported + ".")


def test_every_import_follows_the_layers() -> None:
    wrong = [
        f"{module} ({layer(module)}) imports {imported} ({layer(imported)})"
        for module, imported_modules in graph().items()
        for imported in sorted(imported_modules)
        if layer(imported) not in ALLOWED[layer(module)]
        and not (layer(module) == layer(imported) == "group" and same_group(module, imported))
    ]
    assert wrong == []


def test_the_layer_rule_sees_a_wrong_edge() -> None:
    assert layer("divio_settings.storage.backend") == "runtime"
    assert layer("divio_settings.storage") == "group"
    assert layer("divio_settings.cli.show") == "cli"
    assert "group" not in ALLOWED["group"]  # hosts -> caches would be refused
    assert "api" not in ALLOWED["runtime"]  # checks -> divio_settings.compute would be


# --- Size (#29): modules of at most 400 lines, functions of at most 40, but for catalogues. ---
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40
CATALOGUES = {"divio_settings/variables.py"}  # the registry: one entry per variable
LONG_FUNCTIONS = {("divio_settings/logs.py", "config")}  # the LOGGING dict, as Django reads it


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def relative(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def test_no_module_is_longer_than_400_lines() -> None:
    long = {
        relative(path): count
        for path in sources()
        if (count := len(path.read_text("utf-8").splitlines())) > MAX_MODULE_LINES
        and relative(path) not in CATALOGUES
    }
    assert long == {}


def test_no_function_is_longer_than_40_lines() -> None:
    long = {}
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and (relative(path), node.name) not in LONG_FUNCTIONS:
                    long[f"{relative(path)}:{node.name}"] = lines
    assert long == {}


# --- One definition per fact (#29): a dotted path or a setting's name as a constant once. ---
FACT = re.compile(r"[A-Z][A-Z0-9_]{11,}|[a-z_][a-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


def constants(path: Path) -> set[str]:
    """The dotted paths and setting names (12 characters or more) that *path*'s module-level
    assignments hold."""
    found = set()
    for node in ast.parse(path.read_text("utf-8")).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            for leaf in ast.walk(node.value):
                text = leaf.value if isinstance(leaf, ast.Constant) else None
                if isinstance(text, str) and len(text) >= 12 and FACT.fullmatch(text):
                    found.add(text)
    return found


def test_no_fact_is_defined_in_two_modules() -> None:
    """The registry and the other conventions' table name settings and variables as data (what a
    variable sets, what to use instead): they are left out here, and their DIVIO_* names must be
    conf's."""
    owners: dict[str, list[str]] = {}
    for path in sources():
        if relative(path) in CATALOGUES | {"divio_settings/conventions.py"}:
            continue
        for fact in constants(path):
            owners.setdefault(fact, []).append(relative(path))
    assert {fact: where for fact, where in owners.items() if len(where) > 1} == {}


def test_every_divio_setting_is_named_in_conf_only() -> None:
    from divio_settings import conf, variables

    named: dict[str, list[str]] = {}
    for path in sources():
        if relative(path) in {"divio_settings/conf.py", *CATALOGUES}:
            continue
        for match in re.finditer(r"[\"'](DIVIO_[A-Z_]+)[\"']", path.read_text("utf-8")):
            named.setdefault(match.group(1), []).append(relative(path))
    assert named == {}
    registry = {name for v in variables.VARIABLES for name in v.sets if name.startswith("DIVIO_")}
    assert registry <= set(conf.DEFAULTS)
