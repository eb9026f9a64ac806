"""dxval's own trace: requirement (``qms/requirements.yaml``) → tests → results (JUnit XML).

Tests are joined to requirements through their ``@pytest.mark.req``
markers (:mod:`dxval.qms.markers`) and to results through the
``classname``/``name`` pair pytest writes into JUnit XML (``pytest
--junitxml=FILE``); the parameters of a parametrised test are folded into
one result. When the JUnit file carries ``requirement`` properties (written
by a ``record_property`` hook), those are honoured as well.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from dxval.errors import InputError
from dxval.qms.markers import MarkedTest, requirement_tests, scan_markers
from dxval.qms.records import SoftwareRequirement, load_requirements
from dxval.trace.render import Format, csv_text, html_environment


class Outcome(str, Enum):
    """Result of one test (all its parameter sets) or one requirement."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_RUN = "not run"
    NO_TEST = "no test"


@dataclass(frozen=True, slots=True)
class TestCaseResult:
    """One ``<testcase>`` of a JUnit file."""

    __test__ = False  # not a pytest test class despite its name

    classname: str
    name: str
    outcome: Outcome
    requirements: tuple[str, ...]

    @property
    def function(self) -> str:
        """The test function name without parameters (``test_x[a-b]`` → ``test_x``)."""
        return self.name.split("[", 1)[0]


@dataclass(frozen=True, slots=True)
class VerifyingTest:
    """A test linked to a requirement, and its folded result."""

    node_id: str
    outcome: Outcome
    cases: int


@dataclass(frozen=True, slots=True)
class SelfTraceRow:
    """One dxval requirement, its verifying tests and its result."""

    requirement: SoftwareRequirement
    tests: tuple[VerifyingTest, ...]
    outcome: Outcome

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "requirement_id": self.requirement.id,
            "title": self.requirement.title,
            "statement": self.requirement.statement,
            "result": self.outcome.value,
            "tests": [
                {"test": test.node_id, "result": test.outcome.value, "cases": test.cases}
                for test in self.tests
            ],
        }


def _outcome(testcase: ElementTree.Element) -> Outcome:
    tags = {child.tag for child in testcase}
    if tags & {"failure", "error"}:
        return Outcome.FAILED
    if "skipped" in tags:
        return Outcome.SKIPPED
    return Outcome.PASSED


def read_junit(path: str | Path) -> tuple[TestCaseResult, ...]:
    """Every ``<testcase>`` of a pytest JUnit XML file.

    Raises
    ------
    InputError
        The file is missing or not JUnit XML.
    """
    path = Path(path)
    try:
        root = ElementTree.parse(path).getroot()  # noqa: S314  (pytest's own output)
    except OSError as error:
        raise InputError(f"{path}: cannot read JUnit XML ({error.strerror})") from error
    except ElementTree.ParseError as error:
        raise InputError(f"{path}: not XML ({error})") from error
    if root.tag not in ("testsuites", "testsuite"):
        raise InputError(f"{path}: got <{root.tag}> expected JUnit XML (<testsuites>)")
    results = []
    for testcase in root.iter("testcase"):
        requirements = tuple(
            str(prop.get("value"))
            for prop in testcase.iter("property")
            if prop.get("name") == "requirement"
        )
        results.append(
            TestCaseResult(
                str(testcase.get("classname", "")),
                str(testcase.get("name", "")),
                _outcome(testcase),
                requirements,
            )
        )
    return tuple(results)


def _fold(outcomes: Sequence[Outcome]) -> Outcome:
    """Several results into one: any failure fails; all skipped is skipped; else passed."""
    if not outcomes:
        return Outcome.NOT_RUN
    if Outcome.FAILED in outcomes:
        return Outcome.FAILED
    if all(outcome is Outcome.SKIPPED for outcome in outcomes):
        return Outcome.SKIPPED
    return Outcome.PASSED


def _requirement_outcome(tests: Sequence[VerifyingTest]) -> Outcome:
    """Failed if any test failed; not run if any did not run; passed if one passed, rest skipped."""
    if not tests:
        return Outcome.NO_TEST
    outcomes = [test.outcome for test in tests]
    for decisive in (Outcome.FAILED, Outcome.NOT_RUN, Outcome.PASSED):
        if decisive in outcomes:
            return decisive
    return Outcome.SKIPPED


def self_trace(
    requirements: Iterable[SoftwareRequirement],
    marked: Iterable[MarkedTest],
    results: Sequence[TestCaseResult] | None = None,
) -> tuple[SelfTraceRow, ...]:
    """Requirement → verifying tests → result, for every dxval requirement.

    Parameters
    ----------
    requirements:
        From ``qms/requirements.yaml``.
    marked:
        Tests carrying requirement markers (:func:`~dxval.qms.markers.scan_markers`).
    results:
        JUnit test cases (:func:`read_junit`); ``None`` lists the tests only
        (each "not run").
    """
    by_requirement = requirement_tests(marked)
    by_function: dict[tuple[str, str], list[TestCaseResult]] = {}
    by_property: dict[str, list[TestCaseResult]] = {}
    for result in results or ():
        by_function.setdefault((result.classname, result.function), []).append(result)
        for requirement_id in result.requirements:
            by_property.setdefault(requirement_id, []).append(result)
    rows = []
    for requirement in requirements:
        tests = [
            VerifyingTest(
                test.node_id,
                _fold([r.outcome for r in by_function.get((test.classname, test.name), [])]),
                len(by_function.get((test.classname, test.name), [])),
            )
            for test in by_requirement.get(requirement.id, [])
        ]
        known = {test.node_id for test in tests}
        for result in by_property.get(requirement.id, []):
            node = f"{result.classname}::{result.name}"
            if node not in known:
                tests.append(VerifyingTest(node, result.outcome, 1))
                known.add(node)
        rows.append(SelfTraceRow(requirement, tuple(tests), _requirement_outcome(tests)))
    return tuple(rows)


def trace_self(
    qms: str | Path, *, tests: str | Path, junit: str | Path | None = None
) -> tuple[SelfTraceRow, ...]:
    """dxval's requirement → test → result rows from ``qms/requirements.yaml``, tests and JUnit.

    Raises
    ------
    InputError
        The requirements, a test module or the JUnit file cannot be read.
    """
    requirements = load_requirements(Path(qms) / "requirements.yaml")
    results = read_junit(junit) if junit is not None else None
    return self_trace(requirements, scan_markers(tests), results)


def self_requirement_text(row: SelfTraceRow) -> str:
    """One dxval requirement with its verifying tests and their results, as text."""
    requirement = row.requirement
    lines = [
        f"{requirement.id}: {requirement.title} [{requirement.pattern.value}]",
        f"  {requirement.statement}",
        f"  result: {row.outcome.value}",
    ]
    lines += [f"  {test.outcome.value:<8} {test.node_id}" for test in row.tests]
    return "\n".join(lines) + "\n"


_SELF_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>dxval requirement verification</title>
<style>
body{font-family:sans-serif;font-size:13px}table{border-collapse:collapse}
td,th{border:1px solid #999;padding:3px 6px;vertical-align:top}
.passed{background:#d9f2d9}.failed{background:#f8d0d0}
</style></head><body>
<h1>dxval requirements → tests → results</h1>
<table><thead><tr><th>requirement</th><th>statement</th><th>tests</th><th>result</th></tr></thead>
<tbody>{% for row in rows %}<tr><td>{{ row.requirement_id }}</td><td>{{ row.statement }}</td>
<td>{% for test in row.tests %}{{ test.test }} ({{ test.result }})<br>{% endfor %}</td>
<td class="{{ row.result }}">{{ row.result }}</td></tr>{% endfor %}</tbody></table>
</body></html>
"""


def render_self_trace(rows: Sequence[SelfTraceRow], output: Format) -> str:
    """dxval's requirement → test → result matrix as CSV, JSON or HTML."""
    documents = [row.to_dict() for row in rows]
    if output is Format.JSON:
        return (
            json.dumps({"schema": "dxval-self-trace/1", "requirements": documents}, indent=2) + "\n"
        )
    if output is Format.CSV:
        table = [["requirement_id", "title", "result", "test", "test_result"]]
        for document in documents:
            tests = document["tests"] or [{"test": "", "result": ""}]
            table += [
                [
                    document["requirement_id"],
                    document["title"],
                    document["result"],
                    test["test"],
                    test["result"],
                ]
                for test in tests
            ]
        return csv_text(table)
    return html_environment().from_string(_SELF_HTML).render(rows=documents)
