"""Detection truth from DICOM SR TID 1500 (highdicom) and pixel spacing from the DICOM images."""

from __future__ import annotations

import json
from pathlib import Path

import highdicom as hd
import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sr.codedict import codes
from pydicom.uid import ExplicitVRLittleEndian

from dxval.cli import main
from dxval.data.detection_sr import read_sr_lesions
from dxval.errors import InputError
from dxval.pipeline.lock import lock_protocol
from dxval.stats.detection import Region

PROTOCOL = """\
dxval: 1
id: DET-SR
title: Detection with SR truth
version: "1.0"
task: detection
device: {name: Test detector, version: 0.1.0, intended_use: testing}
detection:
  format: sr
  truth: truth_sr
  localisation: {distance_mm: 5}
predictions: {path: marks.csv, operating_point: 0.5}
test_sets:
  - {id: site-a, site: Site A, manifest: data/manifest.csv}
statistics: {bootstrap: {replicates: 100, seed: 3}}
requirements:
  - id: DET-001
    text: Lesion sensitivity.
    criteria:
      - {metric: lesion_sensitivity, op: ">=", value: 0.5}
"""


def _uid(number: int) -> str:
    return f"2.25.{1000 + number}"


def _image(number: int, spacing: float) -> Dataset:
    """A synthetic DX header (no pixels needed: only geometry is read)."""
    dataset = Dataset()
    dataset.file_meta = FileMetaDataset()
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    dataset.SOPInstanceUID = _uid(number)
    dataset.file_meta.MediaStorageSOPClassUID = dataset.SOPClassUID
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    dataset.StudyInstanceUID = _uid(100 + number)
    dataset.SeriesInstanceUID = _uid(200 + number)
    dataset.PatientID = f"SYN{number}"
    dataset.PatientName = "Synthetic^Case"
    dataset.PatientBirthDate = ""
    dataset.PatientSex = "O"
    dataset.StudyDate = "20260101"
    dataset.StudyTime = "000000"
    dataset.AccessionNumber = ""
    dataset.StudyID = "1"
    dataset.ReferringPhysicianName = ""
    dataset.Modality = "DX"
    dataset.Rows = 64
    dataset.Columns = 64
    dataset.PixelSpacing = [spacing, spacing]
    return dataset


def _sr(
    image: Dataset, regions: list[tuple[hd.sr.GraphicTypeValues, list[list[float]]]]
) -> Dataset:
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(
            name="Reader^One"
        ),
    )
    groups = [
        hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(
                uid=_uid(500 + index + int(image.SOPInstanceUID.split(".")[-1])),
                identifier=f"L{index + 1}",
            ),
            referenced_region=hd.sr.ImageRegion(
                graphic_type=graphic_type,
                graphic_data=np.array(points, dtype=np.float64),
                source_image=hd.sr.SourceImageForRegion.from_source_image(image),
            ),
            finding_type=codes.SCT.Lesion,
        )
        for index, (graphic_type, points) in enumerate(regions)
    ]
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_person_context=observer),
        procedure_reported=codes.LN.CTUnspecifiedBodyRegion,
        imaging_measurements=groups,
    )
    number = int(image.SOPInstanceUID.split(".")[-1])
    return hd.sr.Comprehensive3DSR(
        evidence=[image], content=report, series_number=1,
        series_instance_uid=_uid(300 + number), sop_instance_uid=_uid(400 + number),
        instance_number=1, manufacturer="dxval test",
    )  # fmt: skip


BOX = hd.sr.GraphicTypeValues.POLYLINE
POINT = hd.sr.GraphicTypeValues.POINT
CIRCLE = hd.sr.GraphicTypeValues.CIRCLE


def _write(tmp_path: Path, marks: str, *, spacing: float = 0.5) -> Path:
    data = tmp_path / "data"
    rows = ["case_id,path,image,truth_sr"]
    lesions = {
        1: [(BOX, [[10, 10], [20, 10], [20, 20], [10, 20], [10, 10]]), (POINT, [[40, 40]])],
        2: [],
        3: [(CIRCLE, [[30, 30], [34, 30]])],
    }
    for number, regions in lesions.items():
        folder = data / f"C{number}"
        folder.mkdir(parents=True)
        image = _image(number, spacing)
        image.save_as(folder / "image.dcm", enforce_file_format=True)
        sr = ""
        if regions:
            _sr(image, regions).save_as(folder / "truth.dcm")
            sr = f"C{number}/truth.dcm"
        rows.append(f"C{number},C{number},C{number}/image.dcm,{sr}")
    (data / "manifest.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "marks.csv").write_text(marks)
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(PROTOCOL)
    lock_protocol(protocol)
    return protocol


# Lesion centres: C1 (15, 15) and (40, 40); C3 (30, 30). At 0.5 mm per pixel, a mark 8 px
# from a centre is 4 mm away (a hit at 5 mm); at 1.0 mm it would be 8 mm (a miss).
MARKS = """case_id,mark_id,x,y,score
C1,m1,23,15,0.9
C1,m2,60,60,0.6
C3,m3,30,38,0.8
"""


@pytest.mark.req("DXV-TASK-008")
def test_sr_lesions_are_read_as_regions(tmp_path: Path) -> None:
    image = _image(9, 0.5)
    path = tmp_path / "sr.dcm"
    _sr(
        image, [(BOX, [[1, 2], [5, 2], [5, 9], [1, 9], [1, 2]]), (CIRCLE, [[10, 10], [13, 14]])]
    ).save_as(path)
    regions, names = read_sr_lesions(path)
    assert names == ["L1", "L2"]
    assert regions[0] == Region.box(1, 2, 5, 9)
    assert regions[1] == Region.box(5, 5, 15, 15)  # radius 5 around (10, 10)
    (tmp_path / "not.dcm").write_bytes(b"not dicom")
    with pytest.raises(InputError, match=r"not\.dcm: cannot read as a DICOM SR"):
        read_sr_lesions(tmp_path / "not.dcm")


@pytest.mark.req("DXV-TASK-008")
@pytest.mark.parametrize(("spacing", "hits"), [(0.5, 2), (1.0, 0)])
def test_sr_truth_and_dicom_spacing_through_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spacing: float, hits: int
) -> None:
    protocol = _write(tmp_path, MARKS, spacing=spacing)
    code = main(["validate", str(protocol), "--out", str(tmp_path / "evidence"), "--no-report"])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    (bundle,) = (tmp_path / "evidence" / "DET-SR").iterdir()
    document = json.loads((bundle / "detection.json").read_text())
    overall = document["populations"][0]
    assert (overall["cases"], overall["abnormal_cases"], overall["lesions"]) == (3, 2, 3)
    # 0.5 mm: m1 hits C1's box (4 mm), m3 hits C3's circle (4 mm), nothing hits (40, 40);
    # 1.0 mm (the spacing the DICOM headers now state): both marks are 8 mm away, misses.
    assert sum(case["lesions_found"] for case in document["cases"]) == hits
    assert document["truth"]["format"] == "sr"


@pytest.mark.req("DXV-TASK-008")
def test_a_mark_outside_the_dicom_image_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    protocol = _write(tmp_path, MARKS + "C2,m9,70,10,0.7\n")
    code = main(["validate", str(protocol), "--out", str(tmp_path / "evidence")])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2
    assert (
        "marks.csv:5: mark outside the image (70, 10, 70, 10); expected within 0..64 x 0..64" in err
    )
