"""The view index: every value taken from the bundle, every trace link resolvable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.report.conftest import write_protocol

from dxval.pipeline import run_validation
from dxval.report import build_report_view, read_bundle
from dxval.report.views import ReportView


@pytest.fixture(scope="module")
def view(sealed_bundle: Path) -> ReportView:
    return build_report_view(read_bundle(sealed_bundle))


def _resolve(document: Any, pointer: str) -> Any:
    """RFC 6901 JSON pointer (no escapes needed for dxval's keys)."""
    for part in pointer.strip("/").split("/"):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


def test_requirements_follow_criteria_json(view: ReportView, sealed_bundle: Path) -> None:
    criteria = json.loads((sealed_bundle / "criteria.json").read_text())
    assert [r.id for r in view.requirements] == [r["id"] for r in criteria["requirements"]]
    assert [r.verdict for r in view.requirements] == ["PASS", "PASS", "PASS", "FAIL"]
    assert view.requirements[0].anchor == "req-PERF-001"
    first = view.requirements[0].criteria[0]
    assert first.observed == f"{criteria['requirements'][0]['criteria'][0]['observed']:.4f}"
    assert first.level == "95%"
    assert view.summary_counts == "3 of 4 criteria met, 1 not met, 0 undefined."
    per_site = view.requirements[1].criteria[0]
    assert per_site.level == "97.5%"
    assert per_site.multiplicity.startswith("Holm over 2 populations: intervals at 97.5%")


def test_members_of_a_spread_have_no_verdict(view: ReportView) -> None:
    spread = view.requirements[2].criteria[0]
    assert [line.verdict for line in spread.populations] == ["", ""]
    spread_rows = [row for row in view.trace if row.criterion == "GEN-001"]
    assert [row.verdict for row in spread_rows] == ["", "", "PASS"]
    assert spread_rows[-1].population == "each site (max_minus_min)"


@pytest.mark.req("DXV-REPORT-005")
def test_every_trace_link_resolves_to_the_number_it_names(
    view: ReportView, sealed_bundle: Path
) -> None:
    documents = {
        name: json.loads((sealed_bundle / name).read_text())
        for name in ("criteria.json", "metrics.json")
    }
    checked = 0
    for row in view.trace:
        for link in row.evidence:
            if link.file == "cases.csv":
                assert link.location.startswith(("all rows", "rows with "))
                continue
            target = _resolve(documents[link.file], link.location)
            if link.file == "criteria.json" and "observed" in target:
                observed = target["observed"]
                assert row.observed == ("undefined" if observed is None else f"{observed:.4f}")
            if link.file == "metrics.json":
                assert {"estimate", "low", "high", "method"} <= target.keys()
            checked += 1
    assert checked >= 2 * len(view.trace) - 2


def test_two_by_two_cells_come_from_the_recorded_counts(
    view: ReportView, sealed_bundle: Path
) -> None:
    metrics = json.loads((sealed_bundle / "metrics.json").read_text())
    overall = metrics["populations"][0]["metrics"]
    sensitivity, specificity = overall["sensitivity"], overall["specificity"]
    table = view.results.two_by_two[0]
    assert table.title == "All cases"
    tp, tn = sensitivity["numerator"], specificity["numerator"]
    fn = sensitivity["denominator"] - tp
    fp = specificity["denominator"] - tn
    assert table.cells[0][1:3] == (str(tp), str(fp))
    assert table.cells[1][1:3] == (str(fn), str(tn))
    assert table.rates[0].fraction == f"{tp}/{tp + fn}"
    assert table.note == "1 non-evaluable case excluded"
    assert [t.title for t in view.results.two_by_two] == ["All cases", "Site A", "Site B"]


def test_case_flow_and_site_counts(view: ReportView) -> None:
    flow = view.test_data.flow
    assert (flow.total, flow.non_evaluable, flow.evaluable) == (120, 1, 119)
    assert flow.positives + flow.negatives == 119
    assert int(flow.true_positive) + int(flow.false_negative) == flow.positives
    assert [(r.code, r.count, r.sites) for r in flow.reasons] == [("no_prediction", 1, "Site B: 1")]
    assert [row.site for row in view.test_data.sites] == ["Site A", "Site B"]
    assert view.test_data.total.cases == 120
    scanner = next(t for t in view.test_data.attributes if t.name == "scanner")
    assert scanner.columns == ("Site A", "Site B", "All")
    assert scanner.rows[0].cells == ("60 (100.0%)", "0 (0.0%)", "60 (50.0%)")
    assert "states no test-set independence statement" in view.test_data.independence


@pytest.mark.req("DXV-REPORT-001")
def test_independence_statement_comes_from_the_protocol(tmp_path: Path) -> None:
    protocol = write_protocol(tmp_path / "protocol", cases_per_site=12)
    text = protocol.read_text()
    statement = "Sites A and B contributed no case to model development."
    protocol.write_text(text.replace("truth:", f"independence: {statement}\ntruth:", 1))
    bundle = run_validation(protocol, out=tmp_path / "evidence", reports=False).bundle
    assert build_report_view(read_bundle(bundle)).test_data.independence == statement


def test_subgroups_flags_multiplicity_and_calibration(view: ReportView) -> None:
    results = view.results
    headers = [row.label for row in results.subgroups if row.header]
    assert headers == ["Overall", "Site", "Sex", "Age (years)", "Scanner model"]
    flagged = [
        (row.label, metric)
        for row in results.subgroups
        for metric in ("sensitivity", "specificity", "auc")
        if getattr(row, metric).endswith("†")
    ]
    assert flagged
    assert len(results.flags) == len(flagged)
    assert results.multiplicity[0].startswith("PERF-002 (auc, lower 97.5% bound, each site)")
    assert [row.population for row in results.calibration.rows] == ["All cases", "Site A", "Site B"]
    assert results.calibration.figure is not None
    assert results.roc is not None
    assert [f.number for f in (results.roc, *results.forest)] == [1, 2]
    assert view.failure_modes.figure.number == 4


def test_bundle_without_roc_curves_says_so(bundle_copy: Path) -> None:
    metrics = json.loads((bundle_copy / "metrics.json").read_text())
    del metrics["roc_curves"]
    (bundle_copy / "metrics.json").write_text(json.dumps(metrics))
    view = build_report_view(read_bundle(bundle_copy))
    assert view.results.roc is None
    assert "holds no ROC curve points" in view.results.roc_note


def test_methods_cite_every_recorded_method(view: ReportView) -> None:
    methods = view.methods
    wilson = next(row for row in methods.methods if row.metric == "sensitivity")
    assert wilson.method == "Wilson score"
    assert wilson.references == "[1]"
    assert methods.references[0].startswith("Wilson EB.")
    auc = next(row for row in methods.methods if row.metric == "auc")
    assert auc.references.count("[") == 2
    assert any(field.label == "weasyprint" for field in methods.software)
    assert methods.deviations[1] == "1 of 120 cases were non-evaluable (reasons in the case flow)."


def test_cover_shows_digests_and_checks_each_signature(bundle_copy: Path) -> None:
    folder = bundle_copy / "signatures"
    folder.mkdir()
    record = {
        "name": "Grace Hopper",
        "meaning": "reviewed",
        "signed_utc": "2026-01-03T10:00:00.123Z",
        "key_id": "ed25519:ab12",
    }
    (folder / "01-reviewed.json").write_text(json.dumps(record))
    cover = build_report_view(read_bundle(bundle_copy)).cover
    assert cover.outcome.text == "ACCEPTANCE CRITERIA NOT MET"
    labels = [field.label for field in cover.digests]
    assert labels[0] == "Protocol SHA-256"
    assert "Predictions file (predictions.csv) SHA-256" in labels
    assert "Test set site-b lock SHA-256" in labels
    (signature,) = cover.signatures
    assert (signature.name, signature.signed_utc, signature.meaning, signature.key_id) == (
        "Grace Hopper",
        "2026-01-03 10:00:00 UTC",
        "Reviewed",
        "ed25519:ab12",
    )
    assert not signature.valid  # a record without a signature is never shown as valid
    assert signature.status.startswith("NOT VALID: ")
