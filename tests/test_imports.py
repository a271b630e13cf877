"""The shape of the package, read from the source (ast, nothing imported): no import cycle, and the command-line
frameworks only in the shell.

Edges: every `import` and `from … import` of a module under `migrator/`, whether at module level or inside a
function. A function-level import runs later than a module-level one, so a cycle through it does not fail at
start-up; it still ties the two modules both ways, and only works by the luck of which is imported first, so it
counts as a cycle here too. Imports under `if TYPE_CHECKING:` are left out: they never run. `from pkg import name`
is an edge to `pkg.name` when that is a module, else to `pkg`; importing a submodule is not counted as importing
its parent packages (Python finds those already in sys.modules while they import their own submodules).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "migrator"
SHELL = "migrator.cli"
SHELL_ONLY = ("typer", "click", "rich")  # the command-line frameworks: parsing options, drawing on the terminal


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: at any depth, except in the body of `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for other in node.orelse:
                yield from _import_nodes(other)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _import_nodes(node)


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The fully qualified names this statement imports (packages, modules, or names of a module)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:  # relative: resolved against the importing module's package
        package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
        base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
    for alias in node.names:
        yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def imports_of(module: str) -> set[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    return {name for node in _import_nodes(tree) for name in _imported(module, node)}


GRAPH = {module: {name for name in imports_of(module) if name in MODULES and name != module} for module in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan), each as a path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
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
                found.append(_path_through(graph, set(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _path_through(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A readable cycle inside one component: from its first module back to it."""
    start = min(component)
    paths = [[start]]
    while paths:
        path = paths.pop(0)
        for target in sorted(graph[path[-1]] & component):
            if target == start:
                return [*path, start]
            if target not in path:
                paths.append([*path, target])
    return sorted(component)


def test_the_walk_sees_every_module_and_the_imports_the_shell_is_built_from():
    assert len(MODULES) > 100 and "migrator.cli.shell" in MODULES
    assert {"migrator.cli.shell", "migrator.cli.analyse", "migrator.cli.export"} <= GRAPH["migrator.cli"]
    assert "typer" in imports_of("migrator.cli.shell")
    assert "migrator.stages.export.outcome" not in GRAPH["migrator.progress"]  # only under TYPE_CHECKING


def test_the_cycle_finder_finds_a_cycle_and_names_its_path():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_the_modules_of_migrator():
    assert _cycles(GRAPH) == []


@pytest.mark.parametrize("framework", SHELL_ONLY)
def test_only_the_shell_imports_the_command_line_frameworks(framework: str):
    outside = [
        module
        for module in MODULES
        if not (module == SHELL or module.startswith(SHELL + "."))
        and any(name == framework or name.startswith(framework + ".") for name in imports_of(module))
    ]
    assert outside == []


def test_nothing_but_the_entry_point_imports_the_shell():
    importers = [
        module
        for module, targets in GRAPH.items()
        if not (module == SHELL or module.startswith(SHELL + "."))
        and any(t == SHELL or t.startswith(SHELL + ".") for t in targets)
    ]
    assert importers == ["migrator.__main__"]


def test_the_permission_table_is_neutral_ground_between_preflight_and_the_emulator():
    """migrator/endpoints.py imports nothing of the package; preflight's permission check reads it, not the emulator."""
    assert GRAPH["migrator.endpoints"] == set()
    assert "migrator.endpoints" in GRAPH["migrator.emulator.http"]
    assert not [name for name in GRAPH["migrator.permissions"] if name.startswith("migrator.emulator")]
