"""Fixtures for the hospital-integration tests: demo DICOM, a site key, a live Orthanc PACS.

Orthanc (Debian ``orthanc`` + ``orthanc-dicomweb``; ``.ci/run`` installs them)
is started once per session by :mod:`tests.interop.orthanc` on loopback ports
with a temporary storage folder. The synthetic demo set (3 cases per site)
is uploaded, except the case the generator truncates on purpose (no PACS
stores a file cut short), plus one study with planted PHI dated 2025-01-01 so
that the 2026 queries do not match it.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid
from tests.interop import orthanc

from dxval.demo import generate_demo

#: What every DICOM file holds (new UIDs, the generator's fixed dummy date and time): a site
#: states these as retained after its de-identification, with a justification.
RETAINED_ALWAYS = (
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "MediaStorageSOPInstanceUID",
    "StudyDate",
    "StudyTime",
    "ContentDate",
    "ContentTime",
    "PatientSex",
    "PatientAge",
)
#: The demo's own pseudonyms (``DEMO^<demo case ID>``), which are not the pulled case IDs.
RETAINED_DEMO = (*RETAINED_ALWAYS, "PatientName", "PatientID")
JUSTIFICATION = "Synthetic demo images: generator-made UIDs, dummy dates and pseudonyms."
PLANTED_NAME = "Doe^Jane"
PLANTED_BIRTH_DATE = "19610817"
PROTOCOL = """\
dxval: 1
id: PACS-PULL-TEST
title: Validation on a test set pulled from a PACS
version: "1.0"
device:
  {{name: Demo Nodule Classifier, version: 0.3.0, manufacturer: dxval demo, intended_use: Test.}}
model:
  path: {model}
  runtime: onnxruntime
  input: {{name: image, shape: [null, 1, 128, 128], dtype: float32}}
  output: {{name: score, activation: sigmoid, positive_index: 0}}
  operating_point: 0.11
preprocessing:
  - {{op: modality_lut}}
  - {{op: voi_lut}}
  - {{op: monochrome2}}
  - {{op: resize, size: [128, 128], method: area}}
  - {{op: scale, low: 0.0, high: 1.0}}
  - {{op: to_channels, channels: 1}}
test_sets:
{test_sets}
truth: {{column: label, positive: "1", negative: "0", reference_standard: synthetic}}
attributes:
  sex: {{column: sex, label: Sex}}
qc:
  max_failed_fraction: 0.5
  phi: refuse
  phi_retained: {{attributes: [{retained}], justification: {justification}}}
requirements:
  - id: PERF-001
    text: Sensitivity at least 0.5.
    criteria:
      - {{metric: sensitivity, population: all, bound: point, op: ">=", value: 0.5}}
"""
MODEL = Path(__file__).parents[2] / "models" / "demo" / "demo-nodule.onnx"


def write_protocol(path: Path, manifests: dict[str, str]) -> Path:
    """A model protocol for the demo classifier over ``manifests`` (test-set ID → path)."""
    test_sets = "\n".join(
        f"  - {{id: {name}, site: {name}, manifest: {manifest}}}"
        for name, manifest in manifests.items()
    )
    text = PROTOCOL.format(
        model=MODEL,
        test_sets=test_sets,
        retained=", ".join(RETAINED_DEMO),
        justification=json.dumps(JUSTIFICATION),
    )
    path.write_text(text)
    return path


@dataclass(frozen=True)
class DemoSet:
    """The generated demo: its folder, the storable files and a studies CSV with truth."""

    folder: Path
    files: tuple[Path, ...]
    by_sop: dict[str, Path]
    studies_csv: Path
    study_uids: tuple[str, ...]


@pytest.fixture(scope="session")
def demo_set(tmp_path_factory: pytest.TempPathFactory) -> DemoSet:
    """Three demo cases per site; the studies CSV joins label and sex by StudyInstanceUID."""
    root = tmp_path_factory.mktemp("interop-demo")
    result = generate_demo(root / "demo-data", cases_per_site=3, seed=20260101)
    summary = json.loads((result.out_dir / "demo.json").read_text())
    truncated = {case for site in summary["sites"] for case in site["truncated_case_ids"]}
    files, by_sop, rows = [], {}, []
    for manifest in sorted(result.out_dir.glob("site-*/manifest.csv")):
        for row in csv.DictReader(manifest.open(encoding="utf-8")):
            if row["case_id"] in truncated:
                continue
            path = manifest.parent / row["path"]
            header = pydicom.dcmread(path, stop_before_pixels=True)
            files.append(path)
            by_sop[str(header.SOPInstanceUID)] = path
            rows.append((str(header.StudyInstanceUID), row["label"], row["sex"]))
    studies = root / "studies.csv"
    with studies.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["StudyInstanceUID", "label", "sex"])
        writer.writerows(sorted(rows))
    return DemoSet(result.out_dir, tuple(files), by_sop, studies, tuple(sorted(r[0] for r in rows)))


@pytest.fixture(scope="session")
def site_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh 32-byte site key written as hexadecimal digits."""
    path = tmp_path_factory.mktemp("key") / "site.key"
    path.write_text(secrets.token_hex(32) + "\n")
    return path


def planted_phi_file(template: Path) -> bytes:
    """A demo file turned into a new study that carries a patient name and birth date."""
    dataset = pydicom.dcmread(template)
    dataset.StudyInstanceUID = generate_uid()
    dataset.SeriesInstanceUID = generate_uid()
    dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    dataset.StudyDate = "20250101"
    dataset.PatientName = PLANTED_NAME
    dataset.PatientBirthDate = PLANTED_BIRTH_DATE
    for keyword in (
        "PatientIdentityRemoved",
        "DeidentificationMethod",
        "DeidentificationMethodCodeSequence",
    ):
        if keyword in dataset:
            delattr(dataset, keyword)
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


@dataclass(frozen=True)
class Pacs:
    """The running server and the UID of the planted-PHI study."""

    server: orthanc.Orthanc
    phi_study_uid: str


@pytest.fixture(scope="session")
def pacs(tmp_path_factory: pytest.TempPathFactory, demo_set: DemoSet) -> Iterator[Pacs]:
    """Orthanc holding the demo set and the planted-PHI study (stopped at session end)."""
    problem = orthanc.available()
    if problem is not None:
        pytest.fail(f"the PACS tests need Orthanc: {problem}")
    server = orthanc.start(tmp_path_factory.mktemp("orthanc"), client_port=orthanc.free_port())
    try:
        for path in demo_set.files:
            server.upload_bytes(path.read_bytes())
        planted = planted_phi_file(demo_set.files[-1])
        server.upload_bytes(planted)
        phi_uid = str(
            pydicom.dcmread(io.BytesIO(planted), stop_before_pixels=True).StudyInstanceUID
        )
        yield Pacs(server, phi_uid)
    finally:
        server.stop()
