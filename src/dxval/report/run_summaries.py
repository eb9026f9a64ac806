"""Run summaries for people and CI: terminal table, JSON, JUnit XML, Markdown.

All are renderings of the criteria results; none computes anything. JUnit
has one ``testcase`` per criterion named with its requirement ID (``ID`` or
``ID[i]`` when a requirement has several criteria); a criterion not met or
undefined is a ``failure`` whose message is the observed against the
required value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from dxval.analysis import CriteriaSummary, CriterionResult, RequirementResult


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What the summaries show about one run."""

    protocol_id: str
    run_id: str
    bundle: Path
    exit_code: int
    status: str
    requirements: tuple[RequirementResult, ...]
    summary: CriteriaSummary
    cases: dict[str, int]
    message: str | None = None
    evidence_digest: str = ""

    def criteria(self) -> list[CriterionResult]:
        """Every criterion result, in protocol order."""
        return [
            criterion for requirement in self.requirements for criterion in requirement.criteria
        ]


def observed_text(criterion: CriterionResult) -> str:
    """The observed value with four decimals, or ``undefined``; flags insufficient cells."""
    text = "undefined" if criterion.observed is None else f"{criterion.observed:.4f}"
    return text + (" (insufficient N)" if criterion.insufficient else "")


def failure_text(criterion: CriterionResult) -> str:
    """Why a criterion is not met: observed against required (and the reason if undefined)."""
    text = f"observed {observed_text(criterion)} vs required {criterion.spec.required}"
    return text + (f": {criterion.reason}" if criterion.reason else "")


def requirements_table(run: RunSummary) -> str:
    """Plain-text table: ID, criterion, observed, required, PASS/FAIL/UNDEFINED."""
    rows = [("ID", "criterion", "observed", "required", "result")]
    rows += [
        (
            criterion.name,
            criterion.description,
            observed_text(criterion),
            criterion.spec.required,
            criterion.verdict.value.upper(),
        )
        for criterion in run.criteria()
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    summary = run.summary
    lines.append("")
    lines.append(
        f"{summary.passed} of {summary.total} criteria met, {summary.failed} not met, "
        f"{summary.undefined} undefined; run {run.status}, exit code {run.exit_code}"
    )
    lines.append(f"evidence: {run.bundle}")
    if run.evidence_digest:
        lines.append(f"evidence digest: {run.evidence_digest}")
    report = run.bundle / "report.pdf"
    if report.is_file():
        lines.append(f"report:   {report}")
    return "\n".join(lines) + "\n"


def json_summary(run: RunSummary) -> dict[str, Any]:
    """The ``--json`` document: run identity, outcome and every requirement's criteria."""
    return {
        "protocol_id": run.protocol_id,
        "run_id": run.run_id,
        "bundle": str(run.bundle),
        "exit_code": run.exit_code,
        "status": run.status,
        "message": run.message,
        "evidence_digest": run.evidence_digest,
        "cases": run.cases,
        "summary": run.summary.to_dict(),
        "requirements": [requirement.to_dict() for requirement in run.requirements],
    }


def junit_xml(run: RunSummary) -> bytes:
    """JUnit XML: one testsuite (the protocol), one testcase per criterion."""
    criteria = run.criteria()
    not_met = [criterion for criterion in criteria if criterion.verdict.value != "pass"]
    suite = ElementTree.Element(
        "testsuite",
        {
            "name": run.protocol_id,
            "tests": str(len(criteria)),
            "failures": str(len(not_met)),
            "errors": "0",
            "skipped": "0",
        },
    )
    properties = ElementTree.SubElement(suite, "properties")
    for name, value in (
        ("run_id", run.run_id),
        ("bundle", str(run.bundle)),
        ("status", run.status),
        ("evidence_digest", run.evidence_digest),
    ):
        ElementTree.SubElement(properties, "property", {"name": name, "value": value})
    for criterion in criteria:
        case = ElementTree.SubElement(
            suite, "testcase", {"classname": run.protocol_id, "name": criterion.name}
        )
        if criterion.verdict.value != "pass":
            failure = ElementTree.SubElement(
                case,
                "failure",
                {"message": failure_text(criterion), "type": criterion.verdict.value},
            )
            failure.text = f"{criterion.description}: {failure_text(criterion)}"
    suites = ElementTree.Element("testsuites", {"name": "dxval validate"})
    suites.append(suite)
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n"


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_summary(run: RunSummary) -> str:
    """GitHub-flavoured Markdown summary (for ``$GITHUB_STEP_SUMMARY``)."""
    verdict = {0: "all criteria met", 1: "criteria not met", 4: "run incomplete"}
    lines = [
        f"### dxval validate: {run.protocol_id} — {verdict.get(run.exit_code, run.status)}",
        "",
        "| ID | criterion | observed | required | result |",
        "| --- | --- | --- | --- | --- |",
    ]
    for criterion in run.criteria():
        cells = (
            criterion.name,
            criterion.description,
            observed_text(criterion),
            criterion.spec.required,
            f"**{criterion.verdict.value.upper()}**",
        )
        lines.append("| " + " | ".join(_markdown_cell(cell) for cell in cells) + " |")
    summary = run.summary
    lines += [
        "",
        f"{summary.passed} of {summary.total} criteria met; run {run.status}, "
        f"exit code {run.exit_code}; evidence `{run.bundle}`",
        "",
        f"evidence digest: `{run.evidence_digest}` (check the bundle later with "
        f"`dxval verify {run.bundle} --expect-digest {run.evidence_digest}`)",
    ]
    if run.message:
        lines.append(f"\n{run.message}")
    return "\n".join(lines) + "\n"
