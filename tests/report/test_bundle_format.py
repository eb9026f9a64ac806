"""Reading a bundle back: typed records, and a clear error for every missing or bad file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dxval.errors import InputError
from dxval.evidence.format import EVIDENCE_FILES, read_bundle, read_cases


def test_reads_every_file_the_report_needs(sealed_bundle: Path) -> None:
    bundle = read_bundle(sealed_bundle)
    assert bundle.run.protocol.id == "RPT-TEST"
    assert bundle.attributes == ("sex", "age", "scanner")
    assert len(bundle.cases) == 120
    failed = [case for case in bundle.cases if case.status != "scored"]
    assert [(case.case_id, case.score, case.reason) for case in failed] == [
        ("SITE-B-005", None, "unreadable: truncated file")
    ]
    assert [entry.name for entry in bundle.files] == list(EVIDENCE_FILES)
    assert bundle.file("cases.csv").size == (sealed_bundle / "cases.csv").stat().st_size
    assert bundle.metrics.roc_curves is not None
    assert bundle.signatures == ()


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder; expected an evidence bundle"):
        read_bundle(tmp_path / "absent")


def test_missing_file_is_named(bundle_copy: Path) -> None:
    (bundle_copy / "run.json").unlink()
    with pytest.raises(InputError, match=r"run.json: missing; expected an evidence bundle"):
        read_bundle(bundle_copy)


def test_malformed_json_is_named(bundle_copy: Path) -> None:
    (bundle_copy / "criteria.json").write_text("{not json")
    with pytest.raises(InputError, match=r"criteria.json: not valid JSON"):
        read_bundle(bundle_copy)


def test_wrong_field_type_names_the_field(bundle_copy: Path) -> None:
    metrics = json.loads((bundle_copy / "metrics.json").read_text())
    metrics["populations"][1]["metrics"]["auc"]["low"] = "low"
    (bundle_copy / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(InputError, match=r"metrics.json: populations.1.metrics.auc.low"):
        read_bundle(bundle_copy)


def test_cases_csv_errors(tmp_path: Path) -> None:
    where = tmp_path / "cases.csv"
    with pytest.raises(InputError, match="missing column"):
        read_cases(b"case_id,site\nA,x\n", where=where)
    header = b"case_id,test_set,site,truth,score,decision,status\n"
    with pytest.raises(InputError, match=r"cases.csv:2: score: got 'high' expected a number"):
        read_cases(header + b"A,t,s,1,high,positive,scored\n", where=where)


def test_signature_records_and_unreadable_ones(bundle_copy: Path) -> None:
    folder = bundle_copy / "signatures"
    folder.mkdir()
    record = {"name": "Ada Lovelace", "meaning": "Approved", "signed_utc": "2026-01-03T10:00:00Z"}
    (folder / "01-approval.json").write_text(json.dumps(record))
    (folder / "02-broken.json").write_text(json.dumps({"name": "No Meaning"}))
    (folder / "03-garbage.json").write_text("{")
    entries = read_bundle(bundle_copy).signatures
    assert [entry.file for entry in entries] == [
        "signatures/01-approval.json",
        "signatures/02-broken.json",
        "signatures/03-garbage.json",
    ]
    assert entries[0].record is not None
    assert entries[0].record.name == "Ada Lovelace"
    assert entries[1].problem is not None
    assert "meaning" in entries[1].problem
    assert entries[2].problem is not None
    assert "not readable JSON" in entries[2].problem
