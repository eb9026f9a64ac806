"""Run summaries: terminal table, JUnit XML, Markdown, JSON."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from dxval.analysis import (
    CaseTable,
    CriterionSpec,
    MetricEngine,
    PopulationIndex,
    PopulationSpec,
    RequirementSpec,
    StatisticsSettings,
    evaluate_requirements,
    summarise,
)
from dxval.report.run_summaries import (
    RunSummary,
    json_summary,
    junit_xml,
    markdown_summary,
    requirements_table,
)


@pytest.fixture
def run(tmp_path: Path) -> RunSummary:
    from dxval.analysis import AttributeSpec, CaseRecord, build_populations

    records = [
        CaseRecord(f"c{i}", "A", "a", i % 2 == 0, i / 10, {"sex": "F" if i < 5 else "M"})
        for i in range(10)
    ]
    table = CaseTable.from_records(records, operating_point=0.5, attributes=["sex"])
    populations: PopulationIndex = build_populations(
        table.sites,
        table.test_sets,
        table.levels,
        site_order=["A"],
        test_set_order=["a"],
        attributes=[AttributeSpec("sex", "Sex")],
    )
    everything = PopulationSpec("all")
    requirements = [
        RequirementSpec("PERF-001", "a", (CriterionSpec("accuracy", everything, ">=", 0.4),)),
        RequirementSpec(
            "PERF-002",
            "b",
            (
                CriterionSpec("sensitivity", everything, ">=", 0.9),
                CriterionSpec("auc", PopulationSpec("cell", attribute="sex", value="X"), ">=", 0.5),
            ),
        ),
    ]
    settings = StatisticsSettings(operating_point=0.5, bootstrap_replicates=100)
    results = evaluate_requirements(requirements, MetricEngine(table, settings), populations)
    return RunSummary(
        protocol_id="VAL-1",
        run_id="r1",
        bundle=tmp_path / "VAL-1" / "r1",
        exit_code=1,
        status="complete",
        requirements=results,
        summary=summarise(results),
        cases={"total": 10, "scored": 10, "failed": 0},
    )


@pytest.mark.req("DXV-VAL-003")
def test_junit_has_one_testcase_per_criterion_named_by_requirement(run: RunSummary) -> None:
    root = ElementTree.fromstring(junit_xml(run))  # noqa: S314  (our own output)
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("3", "2")
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == ["PERF-001", "PERF-002[0]", "PERF-002[1]"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.get("message") == "observed 0.4000 (insufficient N) vs required >= 0.9"
    undefined = cases[2].find("failure")
    assert undefined is not None
    assert undefined.get("type") == "undefined"
    assert undefined.get("message") == "observed undefined vs required >= 0.5: no cases in sex = X"


def test_requirements_table(run: RunSummary) -> None:
    lines = requirements_table(run).splitlines()
    assert lines[0].split() == ["ID", "criterion", "observed", "required", "result"]
    assert lines[2].startswith("PERF-001")
    assert lines[2].endswith("PASS")
    assert lines[3].endswith("FAIL")
    assert lines[4].endswith("UNDEFINED")
    assert lines[-2] == "1 of 3 criteria met, 1 not met, 1 undefined; run complete, exit code 1"
    assert lines[-1] == f"evidence: {run.bundle}"


def test_markdown_summary(run: RunSummary) -> None:
    text = markdown_summary(run)
    assert text.startswith("### dxval validate: VAL-1 — criteria not met\n")
    assert (
        "| PERF-002[0] | sensitivity, point estimate, all cases | 0.4000 (insufficient N) | >= 0.9"
        " | **FAIL** |"
    ) in text


def test_json_summary(run: RunSummary) -> None:
    document = json_summary(run)
    assert document["exit_code"] == 1
    assert document["summary"]["undefined"] == 1
    assert document["requirements"][1]["criteria"][1]["reason"] == "no cases in sex = X"
