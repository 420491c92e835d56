"""The project's own modules import each other without circles, and commands call services (issue 28).

What is scanned: every module of the three packages, `lakehouse` and `spark_jobs` (repository
root) and `pipeline` (`dags/`), read with `ast` (nothing is imported, so the test is fast and a
module that cannot import in this environment is still checked).

What is an edge `a -> b`: any `import` or `from ... import` statement in `a` that names `b` (the
longest project module the dotted name starts with: `from pkg import mod` is an edge to `pkg.mod`
when that module exists, else to `pkg`), wherever the statement is:

- at module level (what makes a circle fail at import time);
- inside a function or method (a lazy import): counted too, because lazy imports are the usual
  way to *hide* a circle, and a hidden circle is still two modules that cannot be understood,
  tested or moved apart; the layering must hold whether or not the import runs at start;
- under `if TYPE_CHECKING:` (annotations only): counted too, for the same reason: a module that
  needs another's types depends on it.

Importing `a.b.c` also runs the `__init__` of `a` and `a.b`; those implicit parent edges are not
counted (every submodule would otherwise be "in a circle" with a package that re-exports it), so
a package's `__init__` may re-export its modules.

A *command module* is a module of `lakehouse` that registers a CLI subcommand: it defines a
top-level `register(subparsers)` function (`lakehouse/cli.py` calls it for each module it lists;
a package listed there, `lakehouse.generate`, re-exports the `register` of its command module).
A command module may import services (any module without `register`) but never another command
module: shared work lives in a service both commands import.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {
    "lakehouse": REPO / "lakehouse",
    "lakehouse_core": REPO / "lakehouse_core",
    "spark_jobs": REPO / "spark_jobs",
    "pipeline": REPO / "dags" / "pipeline",
}


@functools.cache
def modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the scanned packages (a package is its `__init__`)."""
    found: dict[str, Path] = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = (package, *path.relative_to(folder).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _project_module(name: str) -> str | None:
    """The longest scanned module `name` starts with (`lakehouse_core.settings.X` -> `lakehouse_core.settings`)."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The project modules one import statement of `module` names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: from the package of `module`
            package = module.split(".") if modules()[module].name == "__init__.py" else module.split(".")[:-1]
            base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules() else base for alias in node.names]
    return {target for name in names if (target := _project_module(name)) and target != module}


@functools.cache
def imports() -> dict[str, dict[str, int]]:
    """module -> {imported project module: line of the first statement naming it}, every kind counted."""
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules().items():
        edges = graph.setdefault(module, {})
        for node in ast.walk(ast.parse(path.read_text(), str(path))):  # module level, in functions, TYPE_CHECKING
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in sorted(_imported(module, node)):
                    edges.setdefault(target, node.lineno)
    return graph


@functools.cache
def module_level_imports() -> dict[str, set[str]]:
    """module -> the project modules it imports outside any function body (what importing it runs)."""

    def statements(tree: ast.AST):
        for child in ast.iter_child_nodes(tree):
            if isinstance(child, ast.Import | ast.ImportFrom):
                yield child
            elif not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                yield from statements(child)

    return {
        module: {target for node in statements(ast.parse(path.read_text())) for target in _imported(module, node)}
        for module, path in modules().items()
    }


def circles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def _describe(component: list[str], graph: dict[str, dict[str, int]]) -> str:
    members = set(component)
    edges = [f"{a}:{line} -> {b}" for a in component for b, line in sorted(graph[a].items()) if b in members]
    return " | ".join(edges)


def test_the_scan_finds_a_circle_and_every_kind_of_import() -> None:
    """The scanner itself: a lazy and a TYPE_CHECKING import make edges, and a circle is found."""
    graph = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b": 1}, "b": {}}) == []
    # Real modules: a module-level, a function-level and a TYPE_CHECKING import are all edges.
    assert "spark_jobs.quality.results" in imports()["spark_jobs.quality.summary"]  # module level
    assert "spark_jobs.quality.gate" in imports()["spark_jobs.quality.summary"]  # under TYPE_CHECKING
    assert "lakehouse.runtime.local_spark" in imports()["pipeline.spark_tasks"]  # inside a function
    assert (
        "lakehouse_core.settings" in imports()["lakehouse_core.spark_backends"]
    )  # `from lakehouse_core.settings import X`


def test_no_import_circles() -> None:
    graph = imports()
    found = [f"{' <-> '.join(c)}: {_describe(c, graph)}" for c in circles(graph)]
    assert not found, "import circles among the project's modules:\n" + "\n".join(found)


# The layers, lowest first: a module imports its own package and the packages below it, never one
# above. `spark_jobs` ships alone to Glue and EMR; `lakehouse_core` is what the DAGs and the CLI
# stand on; `pipeline` is the Airflow-only code beside the DAG files; `lakehouse` is the laptop's
# tooling. One exception, and only inside a function body of `pipeline` (the local task bodies and
# warehouses, which run only where LAKEHOUSE_ENV is local or compose): the laptop runtime,
# `lakehouse.runtime`, which the MWAA bundle does not ship (tests/aws/test_bundle.py).
LAYERS = {
    "spark_jobs": {"spark_jobs"},
    "lakehouse_core": {"lakehouse_core", "spark_jobs"},
    "pipeline": {"pipeline", "lakehouse_core", "spark_jobs"},
    "lakehouse": {"lakehouse", "pipeline", "lakehouse_core", "spark_jobs"},
}
LAPTOP_RUNTIME = "lakehouse.runtime"


def layer_violations(graph: dict[str, dict[str, int]], module_level: dict[str, set[str]]) -> list[str]:
    wrong = []
    for module, edges in sorted(graph.items()):
        top = module.split(".")[0]
        for target, line in sorted(edges.items()):
            if target.split(".")[0] in LAYERS[top]:
                continue
            lazy_runtime = top == "pipeline" and target.startswith(LAPTOP_RUNTIME + ".")
            if lazy_runtime and target not in module_level.get(module, set()):
                continue
            wrong.append(f"{module}:{line} -> {target}")
    return wrong


def test_layers_point_down() -> None:
    """Checked on a made-up graph first (so the rule can say no), then on the project."""
    made_up = {
        "lakehouse_core.a": {"pipeline.b": 3},
        "pipeline.b": {"lakehouse.runtime.c": 5, "lakehouse.cli": 6},
        "spark_jobs.d": {"lakehouse_core.a": 7},
    }
    assert layer_violations(made_up, {"pipeline.b": set()}) == [
        "lakehouse_core.a:3 -> pipeline.b",
        "pipeline.b:6 -> lakehouse.cli",
        "spark_jobs.d:7 -> lakehouse_core.a",
    ]
    assert "pipeline.b:5 -> lakehouse.runtime.c" in layer_violations(made_up, {"pipeline.b": {"lakehouse.runtime.c"}})
    assert layer_violations(imports(), module_level_imports()) == []


@functools.cache
def command_modules() -> frozenset[str]:
    """The `lakehouse` modules that register a CLI subcommand (a top-level `register` function)."""
    return frozenset(
        module
        for module, path in modules().items()
        if module.startswith("lakehouse.")
        and any(
            isinstance(node, ast.FunctionDef) and node.name == "register" for node in ast.parse(path.read_text()).body
        )
    )


def test_command_modules_are_what_the_cli_registers() -> None:
    """The definition above is the CLI's: every module `lakehouse/cli.py` lists is a command module,
    or a package whose `__init__` takes `register` from one; and every command module is reachable so."""
    tree = ast.parse((REPO / "lakehouse" / "cli.py").read_text())
    listed = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "MODULES" for t in node.targets)
    )
    assert isinstance(listed, ast.Tuple)
    # the module each local name stands for: `from lakehouse.commands import dq as dq_cmd`
    named = {
        alias.asname or alias.name: f"{node.module}.{alias.name}"
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lakehouse")
        for alias in node.names
    }
    registered = set()
    for element in listed.elts:
        assert isinstance(element, ast.Name)
        module = named[element.id]
        if module in command_modules():
            registered.add(module)
            continue
        package = ast.parse(modules()[module].read_text())
        sources = {
            f"{node.module}"
            for node in package.body
            if isinstance(node, ast.ImportFrom) and any(alias.name == "register" for alias in node.names)
        }
        assert len(sources) == 1 and sources <= command_modules(), f"{module}: no register of a command module"
        registered |= sources
    assert registered == command_modules()


def test_only_the_cli_imports_commands() -> None:
    """Commands are the leaves: no command imports another, and no service imports a command (the
    shared piece goes into a service both use). `lakehouse.cli` lists them; a package may
    re-export its command's `register` (`lakehouse.generate`)."""
    graph = imports()
    commands = command_modules()
    entry = {"lakehouse.cli"} | {c.rpartition(".")[0] for c in commands}
    wrong = [
        f"{module}:{line} imports {target}"
        for module in sorted(graph)
        if module not in entry
        for target, line in sorted(graph[module].items())
        if target in commands
    ]
    assert not wrong, "a module imports a command (move the shared piece into a service):\n" + "\n".join(wrong)
