"""dxval's own trace: requirements → marked tests → JUnit results, and the --self command."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from dxval.cli import main
from dxval.errors import InputError
from dxval.qms.selftrace import Outcome, read_junit, render_self_trace, trace_self
from dxval.trace import Format

REQUIREMENTS = """schema: dxval-requirements/1
requirements:
  - id: DXV-ONE-001
    title: First
    area: demo
    statement: dxval shall do the first thing.
  - id: DXV-TWO-001
    title: Second
    area: demo
    statement: When asked, dxval shall do the second thing.
  - id: DXV-THREE-001
    title: Third
    area: demo
    statement: If it breaks, then dxval shall say so.
"""

TESTS = """import pytest


@pytest.mark.req("DXV-ONE-001")
@pytest.mark.parametrize("x", [1, 2])
def test_one(x):
    pass


@pytest.mark.req("DXV-TWO-001")
def test_two():
    pass


@pytest.mark.req("DXV-TWO-001")
def test_two_skipped():
    pass
"""


def _junit(two: str = "") -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="4">
<testcase classname="tests.area.test_demo" name="test_one[1]" time="0.1"/>
<testcase classname="tests.area.test_demo" name="test_one[2]" time="0.1"/>
<testcase classname="tests.area.test_demo" name="test_two" time="0.1">{two}</testcase>
<testcase classname="tests.area.test_demo" name="test_two_skipped" time="0.0">
<skipped message="no GPU"/></testcase>
<testcase classname="tests.other" name="test_with_property" time="0.0">
<properties><property name="requirement" value="DXV-THREE-001"/></properties></testcase>
</testsuite></testsuites>
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "qms").mkdir()
    (tmp_path / "qms" / "requirements.yaml").write_text(REQUIREMENTS)
    (tmp_path / "tests" / "area").mkdir(parents=True)
    (tmp_path / "tests" / "area" / "test_demo.py").write_text(TESTS)
    (tmp_path / "junit.xml").write_text(_junit())
    return tmp_path


@pytest.mark.req("DXV-TRACE-004")
def test_requirements_are_joined_to_tests_and_results(project: Path) -> None:
    rows = trace_self(project / "qms", tests=project / "tests", junit=project / "junit.xml")
    summary = {
        row.requirement.id: (row.outcome, [(t.node_id, t.outcome, t.cases) for t in row.tests])
        for row in rows
    }
    assert summary == {
        "DXV-ONE-001": (
            Outcome.PASSED,
            [("tests/area/test_demo.py::test_one", Outcome.PASSED, 2)],
        ),
        "DXV-TWO-001": (
            Outcome.PASSED,
            [
                ("tests/area/test_demo.py::test_two", Outcome.PASSED, 1),
                ("tests/area/test_demo.py::test_two_skipped", Outcome.SKIPPED, 1),
            ],
        ),
        "DXV-THREE-001": (
            Outcome.PASSED,
            [("tests.other::test_with_property", Outcome.PASSED, 1)],
        ),
    }


@pytest.mark.req("DXV-TRACE-004")
def test_a_failure_fails_the_requirement_and_the_command(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "junit.xml").write_text(_junit('<failure message="assert 1 == 2"/>'))
    rows = trace_self(project / "qms", tests=project / "tests", junit=project / "junit.xml")
    assert [row.outcome for row in rows] == [Outcome.PASSED, Outcome.FAILED, Outcome.PASSED]
    arguments = [
        "trace",
        "--self",
        "--qms",
        str(project / "qms"),
        "--tests",
        str(project / "tests"),
    ]
    assert main([*arguments, "--junit", str(project / "junit.xml")]) == 1
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(row["requirement_id"], row["test_result"]) for row in table] == [
        ("DXV-ONE-001", "passed"),
        ("DXV-TWO-001", "failed"),
        ("DXV-TWO-001", "skipped"),
        ("DXV-THREE-001", "passed"),
    ]
    partial = "\n".join(line for line in _junit().splitlines() if '"test_two"' not in line)
    (project / "junit.xml").write_text(partial)
    rows = trace_self(project / "qms", tests=project / "tests", junit=project / "junit.xml")
    assert [row.outcome for row in rows] == [Outcome.PASSED, Outcome.NOT_RUN, Outcome.PASSED]
    (project / "junit.xml").write_text(_junit())
    assert main([*arguments, "--junit", str(project / "junit.xml"), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [row["result"] for row in document["requirements"]] == ["passed"] * 3


@pytest.mark.req("DXV-TRACE-004")
def test_without_junit_only_missing_tests_fail(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = [
        "trace",
        "--self",
        "--qms",
        str(project / "qms"),
        "--tests",
        str(project / "tests"),
    ]
    assert main(arguments) == 1  # DXV-THREE-001 has no marked test without the JUnit property
    rows = trace_self(project / "qms", tests=project / "tests")
    assert [row.outcome for row in rows] == [Outcome.NOT_RUN, Outcome.NOT_RUN, Outcome.NO_TEST]
    capsys.readouterr()
    assert main(["trace", "DXV-ONE-001", *arguments[2:]]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:3] == [
        "DXV-ONE-001: First [ubiquitous]",
        "  dxval shall do the first thing.",
        "  result: not run",
    ]
    assert main(["trace", "DXV-NONE-001", *arguments[2:]]) == 2
    assert "DXV-NONE-001: not defined in" in capsys.readouterr().err


def test_html_rendering_escapes_and_lists_every_requirement(project: Path) -> None:
    rows = trace_self(project / "qms", tests=project / "tests", junit=project / "junit.xml")
    html = render_self_trace(rows, Format.HTML)
    assert html.count('<td class="passed">passed</td>') == 3
    assert "tests/area/test_demo.py::test_two_skipped (skipped)" in html


def test_junit_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read JUnit XML"):
        read_junit(tmp_path / "missing.xml")
    (tmp_path / "bad.xml").write_text("<testsuites>")
    with pytest.raises(InputError, match="not XML"):
        read_junit(tmp_path / "bad.xml")
    (tmp_path / "other.xml").write_text("<html/>")
    with pytest.raises(InputError, match=r"got <html> expected JUnit XML"):
        read_junit(tmp_path / "other.xml")
