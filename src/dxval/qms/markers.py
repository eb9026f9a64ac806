"""Find the tests that verify each dxval requirement: ``@pytest.mark.req("DXV-…")`` markers.

The test modules are read with :mod:`ast`, never imported, so scanning is
fast, has no side effects and works without the test dependencies. A marker
applies where pytest applies it: a decorator on a test function, on a test
class (every test method), or a module-level ``pytestmark`` (every test of
the module). Each marked test is reported with its pytest node ID and the
``classname``/``name`` pytest writes into JUnit XML, so results can be joined
to markers (StrictDoc-style ``@relation`` markers, see ``STYLE.md``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dxval.errors import InputError


@dataclass(frozen=True, slots=True)
class MarkedTest:
    """A test function carrying requirement markers."""

    path: str
    line: int
    classname: str
    name: str
    requirements: tuple[str, ...]

    @property
    def node_id(self) -> str:
        """The pytest node ID without parameters, e.g. ``tests/x/test_y.py::TestZ::test_w``."""
        classes = self.classname.split(".")[len(Path(self.path).with_suffix("").parts) :]
        return "::".join([self.path, *classes, self.name])


def _is_req_marker(node: ast.expr) -> bool:
    """True for ``pytest.mark.req`` / ``mark.req`` (the callee of a marker call)."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "req"
        and (
            (isinstance(node.value, ast.Attribute) and node.value.attr == "mark")
            or (isinstance(node.value, ast.Name) and node.value.id == "mark")
        )
    )


def _marker_ids(expression: ast.expr, where: str) -> list[str]:
    """Requirement IDs of one marker expression (a call, or a list/tuple of them)."""
    if isinstance(expression, (ast.List, ast.Tuple)):
        return [found for item in expression.elts for found in _marker_ids(item, where)]
    if not (isinstance(expression, ast.Call) and _is_req_marker(expression.func)):
        return []
    ids = []
    for argument in expression.args:
        if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
            raise InputError(
                f"{where}:{expression.lineno}: pytest.mark.req: got a non-literal argument "
                "expected requirement IDs as string literals"
            )
        ids.append(argument.value)
    if not ids:
        raise InputError(
            f"{where}:{expression.lineno}: pytest.mark.req: got no ID expected at least one"
        )
    return ids


def _decorator_ids(
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, where: str
) -> list[str]:
    return [found for decorator in node.decorator_list for found in _marker_ids(decorator, where)]


def _module_ids(tree: ast.Module, where: str) -> list[str]:
    ids = []
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "pytestmark"
            for target in statement.targets
        ):
            ids += _marker_ids(statement.value, where)
    return ids


def _tests_in(
    body: Iterable[ast.stmt], prefix: str, inherited: list[str], where: str
) -> Iterator[tuple[str, str, int, list[str]]]:
    """(classname, test name, line, IDs) of the test functions in a module or class body."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(
            "test"
        ):
            yield prefix, node.name, node.lineno, inherited + _decorator_ids(node, where)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            ids = inherited + _decorator_ids(node, where)
            yield from _tests_in(node.body, f"{prefix}.{node.name}", ids, where)


def scan_markers(
    tests_dir: str | Path, *, root: str | Path | None = None
) -> tuple[MarkedTest, ...]:
    """Every test under ``tests_dir`` that carries ``pytest.mark.req`` markers.

    Parameters
    ----------
    tests_dir:
        The test folder; every ``test_*.py`` below it is read.
    root:
        The pytest root the node IDs are relative to (default: the parent of
        ``tests_dir``).

    Raises
    ------
    InputError
        ``tests_dir`` is not a folder, a module does not parse, or a marker
        has no literal ID.
    """
    folder = Path(tests_dir)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of tests")
    base = Path(root) if root is not None else folder.absolute().parent
    found = []
    for path in sorted(folder.rglob("test_*.py")):
        relative = path.absolute().relative_to(base.absolute()).as_posix()
        try:
            tree = ast.parse(path.read_bytes(), filename=relative)
        except SyntaxError as error:
            raise InputError(
                f"{relative}:{error.lineno}: not valid Python ({error.msg})"
            ) from error
        module = relative.removesuffix(".py").replace("/", ".")
        for classname, name, line, ids in _tests_in(
            tree.body, module, _module_ids(tree, relative), relative
        ):
            if ids:
                found.append(MarkedTest(relative, line, classname, name, tuple(dict.fromkeys(ids))))
    return tuple(found)


def requirement_tests(marked: Iterable[MarkedTest]) -> dict[str, list[MarkedTest]]:
    """Requirement ID → the tests that carry its marker, in scan order."""
    index: dict[str, list[MarkedTest]] = {}
    for test in marked:
        for requirement in test.requirements:
            index.setdefault(requirement, []).append(test)
    return index
