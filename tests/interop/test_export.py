"""``dxval export sr|fhir`` on a bundle validated on the demo images (no PACS needed)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest
from tests.interop.conftest import DemoSet, write_protocol

from dxval.cli import main
from dxval.pipeline import run_validation

RUN_ID = "20260103T040506Z-pacs01"


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory, demo_set: DemoSet) -> Path:
    """A bundle of the demo model on sites a and b (one truncated case fails, as designed)."""
    root = tmp_path_factory.mktemp("export")
    shutil.copytree(demo_set.folder, root / "demo-data")
    (root / "protocols").mkdir()
    protocol = write_protocol(
        root / "protocols" / "protocol.yaml",
        {site: f"../demo-data/{site}/manifest.csv" for site in ("site-a", "site-b")},
    )
    assert main(["lock", str(protocol)]) == 0
    return run_validation(protocol, out=root / "evidence", run_id=RUN_ID, reports=False).bundle


def _cases(bundle: Path) -> dict[str, dict[str, str]]:
    return {row["case_id"]: row for row in csv.DictReader((bundle / "cases.csv").open())}


def _items(dataset: pydicom.Dataset) -> list[pydicom.Dataset]:
    found = []
    for item in dataset.get("ContentSequence", []):
        found.append(item)
        found.extend(_items(item))
    return found


@pytest.mark.req("DXV-PACS-006")
def test_sr_files_pass_dciodvfy_and_carry_the_bundle_scores(
    validated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sr"
    assert main(["export", "sr", str(validated), "--out", str(out)]) == 0
    cases = _cases(validated)
    scored = {case_id: row for case_id, row in cases.items() if row["score"]}
    failed = sorted(set(cases) - set(scored))
    assert failed
    assert f"not exported: {', '.join(failed)}" in capsys.readouterr().err
    assert sorted(p.stem for p in out.glob("*.dcm")) == sorted(scored)
    lock = json.loads((validated / "lock.json").read_text())
    protocol_folder = Path(json.loads((validated / "run.json").read_text())["protocol"]["path"])
    for case_id, row in scored.items():
        path = out / f"{case_id}.dcm"
        result = subprocess.run(
            ["dciodvfy", str(path)], capture_output=True, text=True, check=False
        )
        report = result.stdout + result.stderr
        assert "ComprehensiveSR" in report
        assert [line for line in report.splitlines() if line.startswith("Error")] == []
        sr = pydicom.dcmread(path)
        items = _items(sr)
        numbers = [i for i in items if i.get("ValueType") == "NUM"]
        assert [float(n.MeasuredValueSequence[0].FloatingPointValue) for n in numbers] == [
            float(row["score"])
        ]
        decision = [
            i
            for i in items
            if i.get("ValueType") == "CODE" and i.ConceptNameCodeSequence[0].CodeValue == "DECISION"
        ]
        expected = {"positive": "10828004", "negative": "260385009"}[row["decision"]]
        assert decision[0].ConceptCodeSequence[0].CodeValue == expected
        texts = " | ".join(str(i.TextValue) for i in items if i.get("ValueType") == "TEXT")
        assert f"model SHA-256 {lock['model']['sha256']}" in texts
        assert f"evidence run {RUN_ID}" in texts
        assert "Demo Nodule Classifier" in texts
        assert "0.3.0" in texts
        manifest = protocol_folder.parent / f"../demo-data/{row['test_set']}/manifest.csv"
        source_row = next(r for r in csv.DictReader(manifest.open()) if r["case_id"] == case_id)
        source = pydicom.dcmread(manifest.parent / source_row["path"], stop_before_pixels=True)
        referenced = {
            str(ref.ReferencedSOPInstanceUID)
            for i in items
            if i.get("ValueType") == "IMAGE"
            for ref in i.ReferencedSOPSequence
        }
        assert referenced == {str(source.SOPInstanceUID)}
        assert sr.StudyInstanceUID == source.StudyInstanceUID


@pytest.mark.req("DXV-PACS-007")
def test_fhir_bundle_validates_and_carries_the_bundle_scores(
    validated: Path, tmp_path: Path
) -> None:
    from fhir.resources.R4B.bundle import Bundle

    out = tmp_path / "bundle.json"
    assert main(["export", "fhir", str(validated), "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    bundle = Bundle.model_validate(document)  # raises when a resource is invalid
    resources = [entry.resource for entry in bundle.entry]
    kinds = [r.get_resource_type() for r in resources]
    scored = {c: r for c, r in _cases(validated).items() if r["score"]}
    assert kinds.count("Device") == 1
    assert kinds.count("DiagnosticReport") == len(scored)
    assert kinds.count("Observation") == 2 * len(scored)
    lock = json.loads((validated / "lock.json").read_text())
    device = resources[kinds.index("Device")]
    assert device.identifier[0].value == lock["model"]["sha256"]
    assert device.deviceName[0].name == "Demo Nodule Classifier"
    observed: dict[str, dict[str, object]] = {}
    for entry in document["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] != "Observation":
            continue
        case_id = resource["identifier"][0]["value"]
        code = resource["code"]["coding"][0]["code"]
        observed.setdefault(case_id, {})[code] = (
            resource["valueQuantity"]["value"]
            if code == "score"
            else resource["valueCodeableConcept"]["text"]
        )
    assert observed == {
        case_id: {"score": float(row["score"]), "decision": row["decision"]}
        for case_id, row in scored.items()
    }


@pytest.mark.req("DXV-PACS-006")
@pytest.mark.req("DXV-PACS-007")
@pytest.mark.parametrize("kind", ["sr", "fhir"])
def test_a_changed_bundle_exports_nothing_with_exit_3(
    kind: str, validated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(validated, bundle)
    cases = bundle / "cases.csv"
    cases.write_text(cases.read_text().replace(",positive,", ",negative,", 1))
    out = tmp_path / ("sr" if kind == "sr" else "bundle.json")
    assert main(["export", kind, str(bundle), "--out", str(out)]) == 3
    error = capsys.readouterr().err
    assert "bundle does not verify" in error
    assert "cases.csv" in error
    assert not out.exists()


@pytest.mark.req("DXV-PACS-006")
def test_sr_export_refuses_a_source_image_changed_since_scoring(
    validated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded = Path(json.loads((validated / "run.json").read_text())["protocol"]["path"])
    root = tmp_path / "moved"
    shutil.copytree(recorded.parents[1] / "demo-data", root / "demo-data")
    shutil.copytree(recorded.parent, root / "protocols")
    image = next((root / "demo-data" / "site-b" / "dicom").glob("*.dcm"))
    content = bytearray(image.read_bytes())
    content[-1] ^= 0xFF
    image.write_bytes(bytes(content))
    out = tmp_path / "sr"
    moved = root / "protocols" / recorded.name
    assert main(["export", "sr", str(validated), "--out", str(out), "--protocol", str(moved)]) == 3
    assert "source files now hash to" in capsys.readouterr().err
    assert not out.exists()


_PREDICTIONS_PROTOCOL = """\
dxval: 1
id: PACS-BYOP
title: Bring-your-own predictions
version: "1.0"
device: {name: External Model, version: "2.0", intended_use: Test.}
predictions: {path: predictions.csv, case_id: case_id, score: score, operating_point: 0.5}
test_sets:
  - {id: site-a, site: Site A, manifest: site-a.csv}
truth: {column: label, positive: "1", negative: "0", reference_standard: synthetic}
requirements:
  - id: PERF-001
    text: Sensitivity at least 0.5.
    criteria:
      - {metric: sensitivity, population: all, bound: point, op: ">=", value: 0.5}
"""


@pytest.mark.req("DXV-PACS-006")
@pytest.mark.req("DXV-PACS-007")
def test_a_predictions_bundle_exports_fhir_but_no_sr_without_images(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "protocol"
    folder.mkdir()
    rows, scores = ["case_id,label"], ["case_id,score"]
    for index in range(24):
        rows.append(f"C{index:02d},{index % 2}")
        scores.append(f"C{index:02d},{(index % 2) * 0.5 + index / 100!r}")
    (folder / "site-a.csv").write_text("\n".join(rows) + "\n")
    (folder / "predictions.csv").write_text("\n".join(scores) + "\n")
    protocol = folder / "protocol.yaml"
    protocol.write_text(_PREDICTIONS_PROTOCOL)
    assert main(["lock", str(protocol)]) == 0
    bundle = run_validation(protocol, out=tmp_path / "evidence", reports=False).bundle
    out = tmp_path / "bundle.json"
    assert main(["export", "fhir", str(bundle), "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    device = document["entry"][0]["resource"]
    lock = json.loads((bundle / "lock.json").read_text())
    assert device["identifier"][0] == {
        "system": "urn:dxval:predictions-sha256",
        "value": lock["predictions"]["sha256"],
    }
    values = sorted(
        entry["resource"]["valueQuantity"]["value"]
        for entry in document["entry"]
        if entry["resource"]["resourceType"] == "Observation"
        and "valueQuantity" in entry["resource"]
    )
    assert values == sorted(float(row["score"]) for row in _cases(bundle).values())
    capsys.readouterr()
    assert main(["export", "sr", str(bundle), "--out", str(tmp_path / "sr")]) == 2
    assert "names no image files; an SR export needs the source images" in capsys.readouterr().err
    assert not (tmp_path / "sr").exists()
