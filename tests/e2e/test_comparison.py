"""Model comparison through the protocol path (issue 13): aSAH, s100b against wfns.

Reference values: ../shared/reference/README.md, "Paired DeLong test",
``roc.test(roc(outcome, s100b), roc(outcome, wfns), method = "delong",
paired = TRUE)`` in R 4.2.2 / pROC 1.18.0: Z −2.208983591, p 0.02717578223,
95% CI of AUC(s100b) − AUC(wfns) [−0.1742144192, −0.01040617696].
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from dxval.cli import main

RELATIVE = 1e-9
Z = -2.208983591
P_VALUE = 0.02717578223
LOWER, UPPER = -0.1742144192, -0.01040617696


def _write_wfns(folder: Path, *, drop: str | None = None, extra: str | None = None) -> Path:
    """The wfns grade of every aSAH case as a comparator's predictions CSV."""
    rows = []
    for site in ("site-f", "site-m"):
        with (folder / "data" / "asah" / site / "manifest.csv").open(newline="") as handle:
            rows += [(row["case_id"], row["wfns"]) for row in csv.DictReader(handle)]
    rows = [row for row in rows if row[0] != drop]
    if extra is not None:
        rows.append((extra, "3"))
    path = folder / "data" / "asah" / "wfns.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case_id", "score"])
        writer.writerows(rows)
    return path


def _comparison_protocol(
    example: Path, criteria: str, *, against: str = "wfns", pccp: bool = False
) -> Path:
    """The aSAH example with a wfns comparator and ``criteria`` as its only requirement."""
    text = example.read_text()
    head = text[: text.index("requirements:")]
    block = (
        "comparators:\n"
        f"  - id: {against}\n"
        "    role: last_released\n"
        "    predictions: {path: data/asah/wfns.csv, score: score, operating_point: 2.5}\n"
    )
    if pccp:
        block += (
            "pccp:\n"
            "  id: PCCP-MOD-001\n"
            "  modification: replace the WFNS grade by the S100B score\n"
            "  method_refs: [PCCP section 4.2]\n"
        )
    block += (
        "requirements:\n"
        "  - id: CMP-001\n"
        "    text: S100B is non-inferior to WFNS in ROC AUC.\n"
        f"    criteria:\n      - {criteria}\n"
    )
    path = example.with_name("asah-comparison.yaml")
    path.write_text(head + block)
    _write_wfns(example.parent)
    return path


def _auc_criterion(value: float, op: str = ">=") -> str:
    return (
        "{metric: auc_difference, against: wfns, population: all, bound: lower, "
        f'op: "{op}", value: {value!r}}}'
    )


def _run(protocol: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["validate", str(protocol), "--out", str(out), "--no-report"])
    return code, capsys.readouterr().err


def _lock(protocol: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lock", str(protocol)]) == 0
    capsys.readouterr()


@pytest.mark.req("DXV-PCCP-002", "DXV-PCCP-003")
@pytest.mark.parametrize(("shift", "expected"), [(-1e-6, 0), (1e-6, 1)])
def test_auc_difference_criterion_reproduces_proc_paired_test(
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    shift: float,
    expected: int,
) -> None:
    protocol = _comparison_protocol(example, _auc_criterion(LOWER + shift))
    _lock(protocol, capsys)
    assert "sha256:" in protocol.read_text().split("comparators:")[1].split("requirements:")[0]
    out = tmp_path / "evidence"
    code, _ = _run(protocol, out, capsys)
    assert code == expected
    (bundle,) = (path for path in out.glob("*/*") if path.is_dir())
    document = json.loads((bundle / "comparison.json").read_text())
    (entry,) = document["comparators"]
    overall = next(item for item in entry["populations"] if item["key"] == "all")
    auc = overall["auc"]
    assert auc["z"] == pytest.approx(Z, rel=RELATIVE)
    assert auc["p_value"] == pytest.approx(P_VALUE, rel=RELATIVE)
    assert auc["difference"]["low"] == pytest.approx(LOWER, rel=RELATIVE)
    assert auc["difference"]["high"] == pytest.approx(UPPER, rel=RELATIVE)
    assert overall["n"] == 113
    sites = [item for item in entry["populations"] if item["kind"] == "site"]
    assert [item["flips"]["n"] for item in sites] == [item["n"] for item in sites]
    criteria = json.loads((bundle / "criteria.json").read_text())
    (criterion,) = criteria["requirements"][0]["criteria"]
    assert criterion["against"] == "wfns"
    assert criterion["observed"] == pytest.approx(LOWER, rel=RELATIVE)
    assert criterion["verdict"] == ("pass" if expected == 0 else "fail")


@pytest.mark.req("DXV-PCCP-005")
def test_failed_criterion_records_modification_not_to_be_implemented(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _comparison_protocol(example, _auc_criterion(-0.02), pccp=True)
    _lock(protocol, capsys)
    out = tmp_path / "evidence"
    code, _ = _run(protocol, out, capsys)
    assert code == 1
    (bundle,) = (path for path in out.glob("*/*") if path.is_dir())
    run = json.loads((bundle / "run.json").read_text())
    assert run["pccp"]["decision"] == "modification not to be implemented"
    assert run["pccp"]["implement"] is False
    assert run["message"] == "PCCP-MOD-001: modification not to be implemented"
    events = [json.loads(line)["action"] for line in (bundle / "audit.jsonl").open()]
    assert "comparator.scored" in events
    assert "pccp.decided" in events
    lock = json.loads((bundle / "lock.json").read_text())
    assert lock["comparators"][0]["id"] == "wfns"
    assert len(lock["comparators"][0]["predictions"]["sha256"]) == 64
    _check_report_views(bundle)


def _check_report_views(bundle: Path) -> None:
    """The report's comparison section, cover block and 510(k) paragraph, from the bundle."""
    from dxval.evidence.format import read_bundle
    from dxval.report.render import report_figures
    from dxval.report.summary import build_summary_view
    from dxval.report.views import build_report_view

    data = read_bundle(bundle)
    view = build_report_view(data)
    assert view.comparison is not None
    (comparator,) = view.comparison.comparators
    assert comparator.role == "last released model"
    assert [row.population for row in comparator.rows] == ["All cases", "Site F", "Site M"]
    assert comparator.rows[0].auc_difference == "\u22120.0923 (\u22120.1742 to \u22120.0104)"
    # pROC roc.test(paired = TRUE): z = -2.208983591, p = 0.02717578223 (shared/reference)
    assert comparator.rows[0].auc_test == "z = \u22122.2090, p = 0.0272"
    fraction = comparator.flips[0].fraction
    assert re.fullmatch(r"0\.\d{4} \(0\.\d{4}\u202f\u2013\u20090\.\d{4}\)", fraction), fraction
    assert "margin -0.02" in view.comparison.forest.svg
    # the comparison's forest plot is one of the figures sent to the typesetter and written
    # to figures/ (DXV-RENDER4-001)
    assert view.comparison.forest in report_figures(view)
    assert view.comparison.decision == "PCCP-MOD-001: modification not to be implemented."
    cover = {field.label: field.value for field in view.cover.pccp}
    assert cover["Decision"] == "modification not to be implemented"
    assert any(field.label.startswith("Comparator wfns") for field in view.cover.digests)
    paragraph = build_summary_view(data).comparison or ""
    assert paragraph.startswith("Against the last released model (wfns), on the same 113 cases")
    assert "p = 0.0272" in paragraph
    trace = [row for row in view.trace if row.criterion == "CMP-001"]
    assert trace[0].evidence[1].file == "comparison.json"


def _error_line(err: str) -> str:
    """The one error line (progress lines before it are allowed, a traceback is not)."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith("validate: ")]
    assert len(lines) == 1, err
    assert lines[0].startswith("dxval: error: ")
    return lines[0]


@pytest.mark.req("DXV-PCCP-001")
@pytest.mark.parametrize(
    ("drop", "extra", "named"),
    [("asah-007", None, "asah-007"), (None, "asah-999", "asah-999")],
)
def test_comparator_missing_or_extra_case_is_exit_2_naming_it(  # noqa: PLR0917 (pytest passes parameters by name)
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    drop: str | None,
    extra: str | None,
    named: str,
) -> None:
    protocol = _comparison_protocol(example, _auc_criterion(-0.2))
    _write_wfns(example.parent, drop=drop, extra=extra)
    _lock(protocol, capsys)
    out = tmp_path / "evidence"
    code, err = _run(protocol, out, capsys)
    assert code == 2
    line = _error_line(err)
    assert "comparator wfns" in line
    assert named in line
    assert not out.exists()


@pytest.mark.req("DXV-PCCP-001")
def test_comparator_pin_mismatch_is_exit_3_nothing_written(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _comparison_protocol(example, _auc_criterion(-0.2))
    _lock(protocol, capsys)
    wfns = example.parent / "data" / "asah" / "wfns.csv"
    wfns.write_text(wfns.read_text().replace("asah-001,1", "asah-001,2"))
    out = tmp_path / "evidence"
    code, err = _run(protocol, out, capsys)
    assert code == 3
    assert "lock mismatch: comparator wfns predictions file" in _error_line(err)
    assert not out.exists()


@pytest.mark.req("DXV-PCCP-003")
@pytest.mark.parametrize(
    ("criterion", "message"),
    [
        (
            "{metric: auc_difference, against: released, population: all, op: '>=', value: 0}",
            "against: got 'released' expected one of 'wfns'",
        ),
        (
            "{metric: sensitivity, against: wfns, population: all, op: '>=', value: 0}",
            "against: got against on 'sensitivity' expected a difference metric",
        ),
        (
            "{metric: flip_fraction, population: all, op: '<=', value: 0.1}",
            "against: got no against for flip_fraction",
        ),
    ],
)
def test_bad_against_is_one_line_exit_2_nothing_written(
    example: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    criterion: str,
    message: str,
) -> None:
    protocol = _comparison_protocol(example, criterion)
    out = tmp_path / "evidence"
    code, err = _run(protocol, out, capsys)
    assert code == 2
    line = _error_line(err)
    assert "requirements[0].criteria[0]." + message in line
    assert not out.exists()
