"""The import rules of ``docs/architecture.md``, checked by walking every import with ``ast``.

``cogs`` (Discord adapters) → ``bot`` (the core) ← ``storage`` (backends). Only the composition root
``bot/app.py`` may import ``discord``, ``cogs`` or ``storage`` from inside ``bot/``; the adapters never
import a backend; and no file imports itself back through others. Imports under ``if TYPE_CHECKING:``
are for annotations and are not counted; imports inside functions are.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "cogs", "storage")
COMPOSITION_ROOT = "bot.app"
ENTRY_POINTS = ("bot.__main__", "bot.cli")  # ``python -m bot``: starts the composition root (or edits offline)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, int]]:
    """Every module ``node`` imports at run time (with its line), ``if TYPE_CHECKING:`` bodies skipped."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _imports(other, module, is_package)
            continue
        if isinstance(child, ast.Import):
            for alias in child.names:
                yield alias.name, child.lineno
        elif isinstance(child, ast.ImportFrom):
            if child.level:  # relative: resolve against this module's package
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (child.level - 1)]
                target = ".".join([*base, child.module] if child.module else base)
            else:
                target = child.module or ""
            yield target, child.lineno
            for alias in child.names:  # ``from cogs import render`` imports the module cogs.render
                yield f"{target}.{alias.name}", child.lineno
        yield from _imports(child, module, is_package)


def import_graph() -> tuple[dict[str, dict[str, int]], dict[str, Path]]:
    """``{module: {imported module: line}}`` for our three packages (edges to our modules only,
    plus the third-party roots ``discord``, ``cogs`` and ``storage`` for the layer rules)."""
    files = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, dict[str, int]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: dict[str, int] = {}
        for target, line in _imports(tree, module, path.name == "__init__.py"):
            if target.split(".")[0] == "discord":
                edges.setdefault("discord", line)
            elif target in files and target != module:
                edges.setdefault(target, line)
        graph[module] = edges
    return graph, files


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path ``[a, b, …, a]``, or None (iterative depth-first search)."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    for start in sorted(graph):
        if colour[start] != WHITE:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        colour[start] = GREY
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = BLACK
                stack.pop()
            elif colour.get(child, BLACK) == GREY:
                path = [n for n, _ in stack]
                return [*path[path.index(child) :], child]
            elif colour.get(child) == WHITE:
                colour[child] = GREY
                stack.append((child, iter(sorted(graph[child]))))
    return None


def describe(path: list[str], graph: dict[str, dict[str, int]], files: dict[str, Path]) -> str:
    steps = []
    for a, b in itertools.pairwise(path):
        line = graph.get(a, {}).get(b)
        where = f" ({files[a].relative_to(ROOT)}:{line})" if a in files and line else ""
        steps.append(f"{a} → {b}{where}")
    return "\n  ".join(steps)


def package_of(module: str) -> str:
    """The layer a module belongs to: the entry points start the composition root, which wires the rest."""
    if module in ENTRY_POINTS:
        return "entry point"
    return "composition root" if module == COMPOSITION_ROOT else module.split(".")[0]


GRAPH, FILES = import_graph()


def test_the_walker_sees_what_it_must() -> None:
    """Guards the checks below against walking nothing: known edges are found, TYPE_CHECKING is not."""
    assert "discord" in GRAPH["bot.app"] and "cogs.delivery" in GRAPH["bot.app"]
    assert "storage.factory" in GRAPH["bot.app"]
    assert "bot.store" in GRAPH["storage.sqlite"]
    assert "cogs.render" in GRAPH["cogs.history"]  # ``from cogs import render``
    assert "bot.app" not in GRAPH["cogs.common"]  # only under TYPE_CHECKING
    assert "bot.app" in GRAPH["bot.cli"]  # imported inside a function: still counted
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_between_files() -> None:
    graph = {m: {t for t in edges if t in GRAPH} for m, edges in GRAPH.items()}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle between files:\n  " + describe(cycle, GRAPH, FILES)


def test_no_import_cycle_between_packages() -> None:
    """Layers: the composition root wires everything and is imported by no package."""
    packages: dict[str, set[str]] = {}
    witness: dict[tuple[str, str], str] = {}
    for module, edges in GRAPH.items():
        source = package_of(module)
        packages.setdefault(source, set())
        for target in edges:
            if target not in GRAPH or package_of(target) == source:
                continue
            packages[source].add(package_of(target))
            witness.setdefault((source, package_of(target)), f"{module} → {target}")
    cycle = find_cycle(packages)
    assert cycle is None, "import cycle between packages:\n  " + "\n  ".join(
        witness[(a, b)] for a, b in itertools.pairwise(cycle)
    )


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if package_of(m) == "bot"))
def test_the_core_imports_no_discord_cogs_or_storage(module: str) -> None:
    layers = ("cogs", "storage", "composition root", "entry point")
    bad = {t: line for t, line in GRAPH[module].items() if t == "discord" or package_of(t) in layers}
    assert not bad, f"{FILES[module].relative_to(ROOT)} imports " + ", ".join(
        f"{t} (line {line})" for t, line in bad.items()
    )


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if package_of(m) == "cogs"))
def test_the_adapters_import_no_storage_and_no_composition_root(module: str) -> None:
    layers = ("storage", "composition root", "entry point")
    bad = {t: line for t, line in GRAPH[module].items() if package_of(t) in layers}
    assert not bad, f"{FILES[module].relative_to(ROOT)} imports " + ", ".join(
        f"{t} (line {line})" for t, line in bad.items()
    )


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if package_of(m) == "storage"))
def test_storage_imports_no_discord_and_no_adapters(module: str) -> None:
    layers = ("cogs", "composition root", "entry point")
    bad = {t: line for t, line in GRAPH[module].items() if t == "discord" or package_of(t) in layers}
    assert not bad, f"{FILES[module].relative_to(ROOT)} imports " + ", ".join(
        f"{t} (line {line})" for t, line in bad.items()
    )
