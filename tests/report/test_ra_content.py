"""Issue 14 report content: model input, provenance, sample size, reuse, limitations,
deviations, model card and the reporting checklists."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from tests.report.conftest import write_protocol

from dxval.evidence.format import read_bundle
from dxval.evidence.signatures.digest import is_evidence_file
from dxval.pipeline import run_validation
from dxval.report.checklists import CHECKLISTS, SECTIONS
from dxval.report.render import RENDERED_NAMES, SCREEN, render_html, render_model_card
from dxval.report.summary import proposed_limitations
from dxval.report.views import ReportView, build_report_view
from dxval.report.views_checklists import TO_COMPLETE
from dxval.report.views_design import NOT_STATED
from dxval.report.views_model_card import MODEL_CARD_NAME, NO_UPDATE_PLAN, update_plan_lines

TRUTH = (
    'truth: {column: label, positive: "1", negative: "0", '
    "reference_standard: Two-reader consensus}\n"
)
FIELDS = """\
data:
  collection:
    site-a:
      period: 2021-01 to 2021-12
      setting: consecutive outpatients
      inclusion: adults
      exclusion: implants
      acquisition_devices: [Scanner One model X]
truth:
  column: label
  positive: "1"
  negative: "0"
  reference_standard: Two-reader consensus
  process:
    truthers: {number: 2, qualification: radiologists}
    blinding: blinded to the device output
    adjudication: third reader
    agreement: Cohen kappa 0.77
independence: Sites A and B contributed no case to model development.
sample_size:
  sensitivity: {assumed: 0.9, lower_limit: 0.6}
  specificity: {assumed: 0.99, lower_limit: 0.95}
  alpha: 0.05
  power: 0.8
limitations: [Only two scanner models were tested.]
deviations:
  - {id: DEV-001, description: one manifest delivered late, impact: none, classification: minor}
  - {id: DEV-002, description: reader 2 replaced, impact: assessed as none, classification: major}
"""


@pytest.fixture(scope="module")
def full_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An evidence root with two runs of a protocol that states every issue-14 field."""
    root = tmp_path_factory.mktemp("ra-content")
    protocol = write_protocol(root / "protocol", cases_per_site=30)
    protocol.write_text(protocol.read_text().replace(TRUTH, FIELDS, 1))
    for run_id in ("20260101T000000Z-aaaaaa", "20260101T000001Z-bbbbbb"):
        run_validation(protocol, out=root / "evidence", run_id=run_id, reports=False)
    return root / "evidence" / "RPT-TEST"


@pytest.fixture(scope="module")
def full_view(full_root: Path) -> ReportView:
    return build_report_view(read_bundle(full_root / "20260101T000001Z-bbbbbb"))


@pytest.fixture(scope="module")
def bare_view(sealed_bundle: Path) -> ReportView:
    return build_report_view(read_bundle(sealed_bundle))


@pytest.mark.req("DXV-RA-001")
def test_absent_fields_read_not_stated(bare_view: ReportView) -> None:
    assert bare_view.design is not None
    assert bare_view.limitations is not None
    for row in bare_view.design.provenance:
        assert {field.value for field in row.fields} == {NOT_STATED}
    process = {field.label: field.value for field in bare_view.design.truth_process}
    assert process["Number of truthers"] == NOT_STATED
    assert process["Inter-reader agreement"] == NOT_STATED
    assert bare_view.design.sample_size.rows == ()
    assert "states no sample-size justification" in bare_view.design.sample_size.conclusion
    assert bare_view.limitations.stated == ()
    assert bare_view.limitations.deviations == ()
    assert bare_view.methods.deviations[0].startswith("The protocol records no deviation")


@pytest.mark.req("DXV-RA-001")
def test_stated_fields_are_shown(full_view: ReportView) -> None:
    assert full_view.design is not None
    site_a = {f.label: f.value for f in full_view.design.provenance[0].fields}
    assert site_a["Collection period"] == "2021-01 to 2021-12"
    assert site_a["Acquisition devices"] == "Scanner One model X"
    site_b = {f.label: f.value for f in full_view.design.provenance[1].fields}
    assert site_b["Collection period"] == NOT_STATED  # a test set without an entry
    process = {field.label: field.value for field in full_view.design.truth_process}
    assert process["Number of truthers"] == "2"
    assert process["Adjudication"] == "third reader"
    assert full_view.design.independence.startswith("Sites A and B")


@pytest.mark.req("DXV-RA-002")
def test_sample_size_states_whether_the_test_set_meets_it(full_view: ReportView) -> None:
    assert full_view.design is not None
    rows = {row.quantity.split(" ")[0]: row for row in full_view.design.sample_size.rows}
    # 20 positives and 39 negatives analysed (conftest: every third case positive, one failed)
    assert rows["Sensitivity"].verdict == "MET"
    assert rows["Specificity"].verdict == "NOT MET"
    assert "NOT meet" in full_view.design.sample_size.conclusion
    assert rows["Specificity"].observed == "39 negatives"


@pytest.mark.req("DXV-RA-003")
def test_test_set_reuse_names_the_prior_run(full_view: ReportView) -> None:
    assert full_view.design is not None
    reuse = {row.test_set: row for row in full_view.design.reuse}
    assert reuse["site-a"].prior_uses == "1"
    assert reuse["site-a"].prior_runs == "RPT-TEST/20260101T000000Z-aaaaaa"
    assert "Used before this run: site-a, site-b" in full_view.design.reuse_note


@pytest.mark.req("DXV-RA-004")
def test_limitations_reuse_the_summary_and_add_the_protocols(full_root: Path) -> None:
    bundle = read_bundle(full_root / "20260101T000001Z-bbbbbb")
    view = build_report_view(bundle)
    assert view.limitations is not None
    assert view.limitations.generated == proposed_limitations(bundle)
    assert view.limitations.stated == ("Only two scanner models were tested.",)


@pytest.mark.req("DXV-RA-004")
def test_deviations_replace_none_recorded(full_view: ReportView) -> None:
    assert full_view.limitations is not None
    assert [row.id for row in full_view.limitations.deviations] == ["DEV-001", "DEV-002"]
    assert (
        "records 2 deviations from the protocol (1 major, 1 minor)"
        in (full_view.methods.deviations[0])
    )
    assert not any("records no" in line for line in full_view.methods.deviations)


@pytest.mark.req("DXV-RA-005")
@pytest.mark.parametrize("which", ["full", "bare"])
def test_every_checklist_item_has_a_section_link_or_is_to_be_completed(
    which: str, full_view: ReportView, bare_view: ReportView
) -> None:
    view = full_view if which == "full" else bare_view
    html = render_html(view, SCREEN)
    anchors = set(re.findall(r'id="([^"]+)"', html))
    for checklist in CHECKLISTS:
        start = html.index(f'id="checklist-{checklist.key}"')
        table = html[start : html.index("</table>", start)]
        rows = re.findall(r"<tr><td>([^<]+)</td>(.*?)</tr>", table, flags=re.S)
        assert [item_id for item_id, _ in rows] == [item.id for item in checklist.items]
        for item_id, cells in rows:
            links = re.findall(r'<a href="#([^"]+)"', cells)
            assert links or TO_COMPLETE in cells, (checklist.name, item_id)
            assert all(link in anchors for link in links), (checklist.name, item_id, links)


def test_checklists_are_complete_and_every_section_key_exists() -> None:
    sizes = {checklist.name: len(checklist.items) for checklist in CHECKLISTS}
    # CLAIM 2024: 44 items; STARD 2015: 30 items, 34 with sub-items; TRIPOD+AI: 27, 52
    assert sizes == {"CLAIM 2024": 44, "STARD 2015": 34, "TRIPOD+AI": 52}
    for checklist in CHECKLISTS:
        ids = [item.id for item in checklist.items]
        assert len(set(ids)) == len(ids)
        assert all(item.where is None or item.where in SECTIONS for item in checklist.items)


def test_checklist_answers_come_from_the_protocol_when_stated(
    full_view: ReportView, bare_view: ReportView
) -> None:
    def answer(view: ReportView, item_id: str) -> str:
        claim = view.checklists[0]
        return next(row.answer for row in claim.rows if row.id == item_id)

    assert answer(full_view, "18") == "Cohen kappa 0.77"
    assert answer(bare_view, "18") == TO_COMPLETE
    assert answer(full_view, "21") == "Pre-specified; NOT met"
    assert answer(bare_view, "44") == TO_COMPLETE


@pytest.mark.req("DXV-RA-006")
def test_model_card_is_a_rendering_of_the_bundle(full_root: Path, full_view: ReportView) -> None:
    card = render_model_card(full_view).decode("utf-8")
    assert card.startswith("# Model card: Test Classifier, version 1.2.3")
    overall = read_bundle(full_root / "20260101T000001Z-bbbbbb").metrics.population("all")
    assert overall is not None
    assert f"| All cases | {overall.evaluable} (" in card
    assert "Only two scanner models were tested." in card
    assert NO_UPDATE_PLAN in card
    # render_bundle_reports writes every rendered name; renderings stay outside signatures
    assert MODEL_CARD_NAME in RENDERED_NAMES
    assert not is_evidence_file(MODEL_CARD_NAME)


def test_update_plan_shows_the_pccp_modification() -> None:
    locked = SimpleNamespace(run=SimpleNamespace(pccp=None))
    assert update_plan_lines(locked) == (NO_UPDATE_PLAN,)  # type: ignore[arg-type]
    pccp = {"id": "PCCP-MOD-003", "modification": "retrained", "decision": "implement"}
    lines = update_plan_lines(SimpleNamespace(run=SimpleNamespace(pccp=pccp)))  # type: ignore[arg-type]
    assert "PCCP modification: PCCP-MOD-003: retrained" in lines
    assert "Decision: implement" in lines


def test_predictions_protocol_says_the_model_input_is_documented_elsewhere(
    bare_view: ReportView,
) -> None:
    assert bare_view.model_input is not None
    assert bare_view.model_input.ops == ()
    assert "produced outside dxval" in bare_view.model_input.summary
