"""PHI scan per PS3.15 Annex E Table E.1-1: every attribute found, nested, never the value."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from tests.dicom.conftest import real_file, write

from dxval.dicom.failures import CaseFailure, ReasonCode
from dxval.dicom.phi import FindingKind, phi_summary, scan_case, scan_dataset, scan_file
from dxval.dicom.phi_table import TABLE_E1_1, match_row

PLANTED = "Secretvalue"
_VALUES: dict[str, object] = {
    "PN": "Secretvalue^Jane",
    "DA": "19700101",
    "TM": "120000",
    "DT": "19700101120000",
    "UI": "1.2.826.0.1.3680043.8.498.1",
    "AS": "045Y",
    "CS": "PLANTEDVALUE",
    "DS": "1.5",
    "IS": "3",
    "US": 1,
    "SS": 1,
    "UL": 1,
    "SL": 1,
    "FL": 1.0,
    "FD": 1.0,
    "AT": 0x00100010,
    "OB": b"\x01\x02",
    "OW": b"\x01\x02",
    "UN": b"\x01\x02",
}
_EXACT_ROWS = [row for row in TABLE_E1_1 if "X" not in row.tag]
_GROUP_TAGS = {"50XXXXXX": 0x50003000, "60XX3000": 0x60003000, "60XX4000": 0x60024000}


def _plant(dataset: Dataset, tag: int) -> None:
    vr = dictionary_VR(tag).split(" or ")[0]
    if vr == "SQ":
        item = Dataset()
        item.CodeValue = PLANTED
        dataset.add_new(tag, vr, Sequence([item]))
    else:
        dataset.add_new(tag, vr, _VALUES.get(vr, PLANTED))


def _all_table_tags() -> list[int]:
    groups = [_GROUP_TAGS[row.tag] for row in TABLE_E1_1 if row.tag in _GROUP_TAGS]
    return [int(row.tag, 16) for row in _EXACT_ROWS if not row.tag.startswith("0002")] + groups


def _planted() -> Dataset:
    dataset = pydicom.dcmread(real_file("CT_small.dcm"))
    for keyword in [e.keyword for e in dataset if e.keyword and e.tag.group % 2 == 0]:
        if match_row(dataset[keyword].tag) is not None:
            del dataset[keyword]
    nested = Dataset()
    for tag in _all_table_tags():
        _plant(dataset, tag)
        _plant(nested, tag)
    dataset.add_new(0x00091010, "LO", PLANTED)  # private
    dataset.SharedFunctionalGroupsSequence = Sequence([nested])
    dataset.BurnedInAnnotation = "NO"
    return dataset


def test_table_has_every_row_and_tag_once() -> None:
    assert len(TABLE_E1_1) == 459
    assert len({row.tag for row in TABLE_E1_1}) == len(TABLE_E1_1)
    assert match_row(0x00100010).name == "Patient's Name"
    assert match_row(0x60023000).name == "Overlay Data"
    assert match_row(0x50101234).name == "Curve Data"
    assert match_row(0x60033000) is None  # odd group: private, not an overlay
    assert match_row(0x00280010) is None  # Rows


@pytest.mark.req("DXV-DICOM-005")
def test_every_planted_attribute_is_flagged_top_level_and_nested() -> None:
    findings = scan_dataset(_planted(), case_id="case-007")
    paths = {finding.path for finding in findings}
    for tag in _all_table_tags():
        keyword = pydicom.datadict.keyword_for_tag(tag) or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        assert keyword in paths, keyword
        assert f"SharedFunctionalGroupsSequence[0].{keyword}" in paths, keyword
    assert "file_meta.MediaStorageSOPInstanceUID" in paths
    assert "(0009,1010)" in paths
    kinds = {finding.kind for finding in findings}
    assert FindingKind.PRIVATE_ATTRIBUTE in kinds
    assert FindingKind.OVERLAY_OR_GRAPHIC in kinds
    assert {finding.case_id for finding in findings} == {"case-007"}
    flat = " ".join(str(finding.to_dict()) for finding in findings)
    assert PLANTED.lower() not in flat.lower()
    assert "19700101" not in flat


def test_planted_file_written_and_scanned(tmp_path: Path) -> None:
    dataset = _planted()
    for tag in (0x00001000, 0x00001001, 0xFFFAFFFA, 0xFFFCFFFC):
        del dataset[tag]  # command group and trailing items are not written by pydicom
    path = write(dataset, tmp_path / "planted.dcm")
    findings = scan_file(path, case_id="c1")
    assert "SharedFunctionalGroupsSequence[0].OtherPatientIDsSequence[0].CodeValue" not in {
        finding.path for finding in findings
    }  # CodeValue itself is not identifying; its sequence is
    assert "SharedFunctionalGroupsSequence[0].OtherPatientIDsSequence" in {f.path for f in findings}
    assert len(findings) > 2 * 400


def _declared(dataset: Dataset, *codes: str) -> Dataset:
    dataset.PatientIdentityRemoved = "YES"
    dataset.DeidentificationMethod = "dxval test"
    items = []
    for code in codes:
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code, "DCM", "option"
        items.append(item)
    if items:
        dataset.DeidentificationMethodCodeSequence = Sequence(items)
    return dataset


@pytest.mark.req("DXV-INPUT-001")
def test_a_deidentification_claim_suppresses_nothing() -> None:
    # Before: PatientIdentityRemoved=YES + a method excused every D/Z/U attribute and the
    # CID 7050 options their own; a claim is metadata, not evidence (issue 11, finding 3).
    undeclared = {f.path for f in scan_dataset(_planted(), case_id="c")}
    options = ("113108", "113103", "113111", "113110", "113109", "113112", "113106")
    declared_findings = scan_dataset(_declared(_planted(), *options), case_id="c")
    declared = {f.path for f in declared_findings}
    assert declared - {"PatientIdentityRemoved", "DeidentificationMethod"} >= undeclared
    for keyword in ("PatientName", "PatientBirthDate", "InstitutionName", "PatientAge"):
        assert keyword in declared, keyword
    assert "OverlayData" in declared
    assert "(0009,1010)" in declared
    claims = {finding.claim for finding in declared_findings}
    assert claims == {"PatientIdentityRemoved=YES; method recorded; options A,F,G,I,P,U,V"}
    assert {finding.claim for finding in scan_dataset(_planted(), case_id="c")} == {"none"}


@pytest.mark.req("DXV-INPUT-001")
def test_smith_john_claiming_deidentification_is_flagged(tmp_path: Path) -> None:
    dataset = pydicom.dcmread(real_file("CT_small.dcm"))
    dataset.PatientName = "SMITH^JOHN"
    dataset.PatientBirthDate = "19700101"
    dataset.InstitutionName = "General Hospital"
    path = write(_declared(dataset, "113108"), tmp_path / "claims.dcm")
    findings = scan_file(path, case_id="c1")
    flagged = {finding.attribute for finding in findings}
    assert {"PatientName", "PatientBirthDate", "InstitutionName"} <= flagged
    summary = phi_summary(findings)
    assert "(1 of them claim de-identification)" in summary
    assert "SMITH" not in summary
    assert "SMITH" not in str([f.to_dict() for f in findings])


def test_protocol_retained_keywords_and_pseudonyms_are_not_findings() -> None:
    dataset = _declared(_planted(), "113108")
    allowed = scan_dataset(dataset, case_id="c", allow=("PatientAge", "PatientWeight"))
    flagged = {finding.attribute for finding in allowed}
    assert "PatientAge" not in flagged
    assert "PatientWeight" not in flagged
    assert "AdditionalPatientHistory" in flagged
    dataset.PatientName = "DEMO^case-9"
    dataset.PatientID = "case-9"
    pseudonymous = {f.path for f in scan_dataset(dataset, case_id="case-9")}
    assert "PatientName" not in pseudonymous
    assert "PatientID" not in pseudonymous
    other = {f.path for f in scan_dataset(dataset, case_id="case-1")}
    assert {"PatientName", "PatientID"} <= other


def _cleaned() -> Dataset:
    """CT_small de-identified by hand per the Basic Profile, as a site would deliver it."""
    dataset = pydicom.dcmread(real_file("CT_small.dcm"))
    for element in list(dataset):
        row = match_row(element.tag)
        if element.tag.group % 2 == 1 or (
            row is not None and not any(c in row.action for c in "DZU")
        ):
            del dataset[element.tag]
        elif row is not None and row.action.startswith("Z"):
            dataset[element.tag].value = ""
    dataset.PatientName = "CASE^0007"
    dataset.BurnedInAnnotation = "NO"
    return _declared(dataset)


def _replaced(dataset: Dataset) -> tuple[str, ...]:
    """Keywords still holding (replaced) values: what a protocol lists in qc.phi_retained."""
    return tuple(
        element.keyword
        for element in [*dataset, *dataset.file_meta]
        if match_row(element.tag) is not None and element.keyword != "PatientName"
    )


def test_cleaned_file_passes_with_its_replacements_retained(tmp_path: Path) -> None:
    dataset = _cleaned()
    path = write(dataset, tmp_path / "clean.dcm")
    retained = _replaced(pydicom.dcmread(path))
    assert "StudyInstanceUID" in retained
    assert scan_file(path, case_id="0007", allow=retained) == ()
    assert scan_case([tmp_path], case_id="0007", allow=retained) == ()
    assert phi_summary(()) == "PHI scan: no findings"
    # the same file without the protocol's retention: its replaced UIDs are findings
    assert "StudyInstanceUID" in {f.attribute for f in scan_file(path, case_id="0007")}


def test_burned_in_annotation_and_inconsistent_flags() -> None:
    dataset = _cleaned()
    dataset.BurnedInAnnotation = "YES"
    del dataset.DeidentificationMethod
    findings = scan_dataset(dataset, case_id="c9")
    reasons = {finding.kind: finding.reason for finding in findings}
    assert reasons[FindingKind.BURNED_IN_ANNOTATION] == "BurnedInAnnotation is YES, not NO"
    assert (
        "PatientIdentityRemoved is YES but no DeidentificationMethod"
        in (reasons[FindingKind.DEIDENTIFICATION_INCONSISTENT])
    )
    del dataset.BurnedInAnnotation
    dataset.PatientIdentityRemoved = "NO"
    dataset.DeidentificationMethod = "tool"
    reasons = {f.kind: f.reason for f in scan_dataset(dataset, case_id="c9")}
    assert reasons[FindingKind.BURNED_IN_ANNOTATION] == "BurnedInAnnotation is absent, not NO"
    assert reasons[FindingKind.DEIDENTIFICATION_INCONSISTENT] == (
        "a de-identification method is recorded but PatientIdentityRemoved is not YES"
    )


def test_summary_counts_cases_not_values() -> None:
    findings = scan_dataset(_planted(), case_id="a") + scan_dataset(_planted(), case_id="b")
    summary = phi_summary(findings, limit=3)
    assert summary.startswith("PHI scan: findings in 2 cases")
    assert "(identifying_attribute): 2 cases" in summary
    assert "more attribute" in summary


def test_unreadable_files_are_case_failures(tmp_path: Path) -> None:
    text = tmp_path / "x.txt"
    text.write_text("hello")
    with pytest.raises(CaseFailure) as caught:
        scan_file(text, case_id="x")
    assert caught.value.reason_code is ReasonCode.NOT_DICOM
    with pytest.raises(CaseFailure, match=r"absent\.dcm"):
        scan_file(tmp_path / "absent.dcm", case_id="x")
