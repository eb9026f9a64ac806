"""The source layout and the import rules of DESIGN.md, read from the code with ``ast``.

Imports point one way: cli → commands → pipeline → stage packages → stats;
no cycle between packages; evidence never imports report; inference imports
neither protocol nor stats; stats imports no other part of dxval. Lazy
imports inside functions and module names written as strings (importlib)
count as imports.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "dxval"
TOP_LEVEL_MODULES = {"__init__.py", "__main__.py", "cli.py", "errors.py"}
FORBIDDEN = {
    ("evidence", "report"): "evidence owns the bundle; rendering is report's (DESIGN.md)",
    ("inference", "protocol"): "inference takes plain values from the pipeline's RunPlan",
    ("inference", "stats"): "paired statistics of a concordance run belong to the pipeline",
}
#: Packages stats may import: none of dxval (numpy and scipy only).
STATS_MAY_IMPORT: set[str] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_names(text: str, package: str) -> Iterator[str]:
    """Every module named by an import (top-level or lazy) or a ``dxval.`` string literal.

    ``package`` is the package the code lives in (relative imports resolve against it).
    """
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith("dxval.")
            and " " not in node.value
        ):
            yield node.value


def _unit(module: str) -> str | None:
    """The package (or top-level module) a dxval module belongs to."""
    parts = module.split(".")
    if parts[0] != "dxval" or len(parts) < 2:
        return None
    candidate = parts[1]
    if (SOURCE / candidate).is_dir() or (SOURCE / f"{candidate}.py").is_file():
        return candidate
    return None  # a name imported from dxval/__init__ (e.g. __version__)


def _edges() -> dict[tuple[str, str], set[str]]:
    """(importing package, imported package) → the files that make the edge."""
    edges: dict[tuple[str, str], set[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        module = _module_name(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        source = _unit(module) or "__init__"
        for name in _imported_names(path.read_text(encoding="utf-8"), package):
            target = _unit(name)
            if target is not None and target != source:
                edges.setdefault((source, target), set()).add(str(path.relative_to(SOURCE)))
    return edges


def _cycle(edges: dict[tuple[str, str], set[str]]) -> list[str] | None:
    """One import cycle between packages, as a path that returns to its start, or None."""
    graph: dict[str, set[str]] = {}
    for source, target in edges:
        graph.setdefault(source, set()).add(target)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for following in sorted(graph.get(node, ())):
            if state.get(following) == 1:
                return [*stack[stack.index(following) :], following]
            if following not in state and (found := visit(following)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_top_level_holds_only_the_entry_points_and_errors() -> None:
    modules = {path.name for path in SOURCE.glob("*.py")}
    assert modules == TOP_LEVEL_MODULES
    assert (SOURCE / "pipeline" / "__init__.py").is_file()
    assert (SOURCE / "pipeline" / "plan.py").is_file()


@pytest.mark.req("DXV-ARCH-001")
def test_no_import_cycle_between_packages() -> None:
    edges = _edges()
    cycle = _cycle(edges)
    if cycle is not None:
        steps = [
            f"{a} -> {b} ({', '.join(sorted(edges[(a, b)]))})" for a, b in itertools.pairwise(cycle)
        ]
        pytest.fail("import cycle between packages: " + "; ".join(steps))


@pytest.mark.req("DXV-ARCH-001")
def test_forbidden_edges_are_absent() -> None:
    edges = _edges()
    found = [
        f"{source} imports {target} in {', '.join(sorted(edges[(source, target)]))}: {why}"
        for (source, target), why in FORBIDDEN.items()
        if (source, target) in edges
    ]
    assert not found
    assert not ({("qms", "trace"), ("trace", "qms")} <= set(edges)), (
        "qms and trace import each other"
    )
    stats = {target for source, target in edges if source == "stats"}
    assert stats <= STATS_MAY_IMPORT


def test_the_checker_sees_lazy_imports_and_names_in_strings() -> None:
    # The reader itself must not be blind: lazy, relative and importlib imports all count.
    code = (
        "import importlib\n"
        "from . import records\n"
        "def render():\n"
        "    from dxval.report import render_bundle_reports\n"
        "    return importlib.import_module('dxval.inference.environment')\n"
    )
    names = set(_imported_names(code, "dxval.evidence.signatures"))
    assert {"dxval.report", "dxval.inference.environment", "dxval.evidence.signatures"} <= names
    assert {_unit(name) for name in names} >= {"report", "inference", "evidence"}
    assert _cycle({("a", "b"): {"x"}, ("b", "c"): {"y"}, ("c", "a"): {"z"}}) == ["a", "b", "c", "a"]
    assert _cycle({("a", "b"): {"x"}, ("b", "c"): {"y"}}) is None
