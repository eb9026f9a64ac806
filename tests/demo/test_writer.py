"""dxval.demo.writer: the files are valid CR images, decode losslessly and carry no PHI."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest

from dxval.demo import DEMO_SITES, DemoResult
from dxval.demo.cases import sample_case
from dxval.demo.radiograph import render_case
from dxval.demo.writer import CR_IMAGE_STORAGE, IMPLEMENTATION_CLASS_UID, encode_case
from dxval.dicom.phi import scan_file
from dxval.protocol import load_protocol

ManifestReader = Callable[[Path], list[dict[str, str]]]

PROTOCOLS = Path(__file__).parents[2] / "protocols"


def _readable_files(demo: DemoResult, read_manifest: ManifestReader) -> list[Path]:
    files = []
    for site in demo.sites:
        for row in read_manifest(site.manifest)[:4]:
            if row["case_id"] not in site.truncated_case_ids:
                files.append(site.manifest.parent / row["path"])
    return files


@pytest.mark.req("DXV-DEMO-002")
def test_dciodvfy_reports_no_errors(small_demo: DemoResult, read_manifest: ManifestReader) -> None:
    # dicom3tools is a test dependency (installed by .ci/run); a missing tool fails here
    executable = shutil.which("dciodvfy")
    assert executable is not None, "dciodvfy (Debian package dicom3tools) is not installed"
    for path in _readable_files(small_demo, read_manifest):
        completed = subprocess.run(
            [executable, str(path)], capture_output=True, text=True, check=False
        )
        report = completed.stdout + completed.stderr
        assert "CRImage" in report, report
        errors = [line for line in report.splitlines() if line.startswith("Error")]
        assert errors == [], f"{path.name}: {errors}"


def test_every_readable_file_decodes_to_the_rendered_pixels(small_demo: DemoResult) -> None:
    for site, result in zip(DEMO_SITES, small_demo.sites, strict=True):
        for index in range(3):
            case, generator = sample_case(small_demo.seed, site, index)
            if case.case_id in result.truncated_case_ids:
                continue
            dataset = pydicom.dcmread(result.manifest.parent / "dicom" / f"{case.case_id}.dcm")
            expected = render_case(case, site, generator).pixels
            assert np.array_equal(dataset.pixel_array, expected)


def test_the_sites_differ_as_hospitals_do(
    small_demo: DemoResult, read_manifest: ManifestReader
) -> None:
    seen = {}
    for result in small_demo.sites:
        row = read_manifest(result.manifest)[-1]
        header = pydicom.dcmread(result.manifest.parent / row["path"], stop_before_pixels=True)
        seen[result.site_id] = header
    a, b, c = seen["site-a"], seen["site-b"], seen["site-c"]
    assert len({header.Manufacturer for header in (a, b, c)}) == 3
    assert len({header.ManufacturerModelName for header in (a, b, c)}) == 3
    assert [header.BitsStored for header in (a, b, c)] == [12, 15, 16]
    assert [header.PhotometricInterpretation for header in (a, b, c)] == [
        "MONOCHROME2",
        "MONOCHROME1",
        "MONOCHROME2",
    ]
    assert b.file_meta.TransferSyntaxUID == pydicom.uid.RLELossless
    assert a.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert (float(c.RescaleSlope), float(c.RescaleIntercept)) == (0.5, -1024.0)
    assert "RescaleSlope" not in a
    assert "RescaleSlope" not in b
    assert len({tuple(header.PixelSpacing) for header in (a, b, c)}) == 3
    for header in (a, b, c):
        assert header.SOPClassUID == CR_IMAGE_STORAGE
        assert header.file_meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
        assert header.file_meta.ImplementationVersionName == "DXVAL_DEMO_1"
        assert header.PatientIdentityRemoved == "YES"
        assert "synthetic" in header.DeidentificationMethod.lower()


def test_monochrome1_site_stores_lungs_high(small_demo: DemoResult) -> None:
    # MONOCHROME1 shows high values dark: the (dark) lung fields must hold high stored values
    for site, result in zip(DEMO_SITES, small_demo.sites, strict=True):
        case, _ = sample_case(small_demo.seed, site, 0)
        dataset = pydicom.dcmread(result.manifest.parent / "dicom" / f"{case.case_id}.dcm")
        pixels = dataset.pixel_array.astype(np.float64)
        rows, columns = pixels.shape
        lung = pixels[rows // 3, columns // 5 : columns // 3].mean()
        spine = pixels[rows // 3, columns // 2 - 3 : columns // 2 + 3].mean()
        if dataset.PhotometricInterpretation == "MONOCHROME1":
            assert lung > spine
        else:
            assert lung < spine


@pytest.mark.req("DXV-DEMO-002")
def test_no_phi_findings(small_demo: DemoResult, read_manifest: ManifestReader) -> None:
    # The scan trusts no de-identification claim (issue 11, finding 3): what the demo files
    # keep is accepted by the demo protocol (subgroup attributes, qc.phi_retained) and by
    # PatientName/PatientID holding the case ID.
    protocol = load_protocol(PROTOCOLS / "demo.yaml").protocol
    assert protocol.qc.phi_retained is not None
    allow = [
        *protocol.qc.phi_retained.attributes,
        *(attribute.dicom for attribute in protocol.attributes.values() if attribute.dicom),
    ]
    for path in _readable_files(small_demo, read_manifest):
        assert scan_file(path, case_id=path.stem, allow=allow) == ()
        assert scan_file(path, case_id=path.stem)  # without the protocol: findings


def test_encoding_is_deterministic_and_uids_follow_the_seed() -> None:
    site = DEMO_SITES[1]
    encoded = []
    for seed in (1, 1, 2):
        case, generator = sample_case(seed, site, 0)
        encoded.append(encode_case(case, site, render_case(case, site, generator), seed=seed))
    assert encoded[0] == encoded[1]
    first = pydicom.dcmread(pydicom.filebase.DicomBytesIO(encoded[0]))
    other = pydicom.dcmread(pydicom.filebase.DicomBytesIO(encoded[2]))
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "PatientID"):
        assert first[keyword].value != other[keyword].value
    assert first.file_meta.MediaStorageSOPInstanceUID == first.SOPInstanceUID


@pytest.mark.parametrize(
    "keyword", ["PatientBirthDate", "ReferringPhysicianName", "AccessionNumber"]
)
def test_identifying_type_2_attributes_are_present_and_empty(
    small_demo: DemoResult, keyword: str
) -> None:
    path = next((small_demo.sites[2].manifest.parent / "dicom").iterdir())
    header = pydicom.dcmread(path, stop_before_pixels=True)
    assert keyword in header
    assert header[keyword].value in ("", None)
