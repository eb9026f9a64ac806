"""Mask readers: DICOM SEG written by highdicom, NIfTI, .npz; grid checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dxval.data.masks import check_same_grid, read_label_map, structure_mask
from dxval.errors import InputError


def _ct_series(rows: int, columns: int, slices: int, spacing: tuple[float, float, float]) -> list:
    """A synthetic CT series (no patient data) for highdicom to reference."""
    pydicom = pytest.importorskip("pydicom")
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    images = []
    for index in range(slices):
        dataset = pydicom.Dataset()
        dataset.file_meta = FileMetaDataset()
        dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        dataset.file_meta.MediaStorageSOPClassUID = CTImageStorage
        dataset.SOPClassUID = CTImageStorage
        dataset.SOPInstanceUID = generate_uid()
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        dataset.StudyInstanceUID, dataset.SeriesInstanceUID = study, series
        dataset.FrameOfReferenceUID = frame
        dataset.PatientID, dataset.PatientName, dataset.PatientSex = "SYN-1", "Synthetic^Mask", "O"
        dataset.PatientBirthDate, dataset.StudyDate, dataset.StudyTime = "", "20260101", "120000"
        dataset.AccessionNumber, dataset.ReferringPhysicianName, dataset.StudyID = "", "", "1"
        dataset.Modality, dataset.SeriesNumber, dataset.InstanceNumber = "CT", 1, index + 1
        dataset.Manufacturer = "dxval-test"
        dataset.ImagePositionPatient = [0.0, 0.0, index * spacing[0]]
        dataset.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        dataset.PixelSpacing = [spacing[1], spacing[2]]
        dataset.SliceThickness = spacing[0]
        dataset.Rows, dataset.Columns = rows, columns
        dataset.SamplesPerPixel, dataset.PhotometricInterpretation = 1, "MONOCHROME2"
        dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, 16, 15
        dataset.PixelRepresentation = 0
        dataset.PixelData = np.zeros((rows, columns), np.uint16).tobytes()
        images.append(dataset)
    return images


@pytest.mark.req("DXV-TASK-004")
def test_dicom_seg_reads_as_named_label_map(tmp_path: Path) -> None:
    highdicom = pytest.importorskip("highdicom")
    from pydicom.sr.codedict import codes

    spacing = (2.5, 0.7, 0.7)  # slice, row, column (mm)
    images = _ct_series(16, 12, 5, spacing)
    labels = np.zeros((5, 16, 12), dtype=np.uint8)
    labels[1:4, 2:9, 3:7] = 1
    labels[2, 10:14, 1:3] = 2
    descriptions = [
        highdicom.seg.SegmentDescription(
            segment_number=number,
            segment_label=name,
            segmented_property_category=codes.SCT.Organ,
            segmented_property_type=codes.SCT.Liver if number == 1 else codes.SCT.Spleen,
            algorithm_type=highdicom.seg.SegmentAlgorithmTypeValues.MANUAL,
        )
        for number, name in ((1, "liver"), (2, "spleen"))
    ]
    segmentation = highdicom.seg.Segmentation(
        source_images=images,
        pixel_array=labels,
        segmentation_type=highdicom.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=highdicom.UID(),
        series_number=2,
        sop_instance_uid=highdicom.UID(),
        instance_number=1,
        manufacturer="dxval-test",
        manufacturer_model_name="synthetic",
        software_versions="0",
        device_serial_number="0",
        omit_empty_frames=False,  # see read_dicom_seg: the volume spans the frames stored
    )
    path = tmp_path / "seg.dcm"
    segmentation.save_as(path)
    label_map = read_label_map(path)
    assert label_map.source == "dicom-seg"
    assert dict(label_map.names) == {1: "liver", 2: "spleen"}
    assert label_map.spacing == pytest.approx(spacing)
    assert label_map.array.shape == labels.shape
    np.testing.assert_array_equal(structure_mask(label_map, 1), labels == 1)
    np.testing.assert_array_equal(structure_mask(label_map, 2), labels == 2)


@pytest.mark.req("DXV-TASK-004")
def test_nifti_spacing_and_grid_checks(tmp_path: Path) -> None:
    nibabel = pytest.importorskip("nibabel")
    mask = np.zeros((6, 7, 3), np.uint8)
    mask[2:4, 2:5, 1] = 3
    nibabel.save(nibabel.Nifti1Image(mask, np.diag([0.8, 0.9, 3.0, 1.0])), tmp_path / "a.nii.gz")
    nibabel.save(nibabel.Nifti1Image(mask, np.diag([0.8, 0.9, 2.0, 1.0])), tmp_path / "b.nii.gz")
    first = read_label_map(tmp_path / "a.nii.gz")
    assert first.spacing == pytest.approx((0.8, 0.9, 3.0))
    np.testing.assert_array_equal(first.array, mask)
    assert check_same_grid(first, first) is None
    assert check_same_grid(first, read_label_map(tmp_path / "b.nii.gz")) == "spacing_mismatch"
    moved = np.diag([0.8, 0.9, 3.0, 1.0])
    moved[:3, 3] = (10.0, 0.0, 0.0)
    nibabel.save(nibabel.Nifti1Image(mask, moved), tmp_path / "c.nii.gz")
    assert check_same_grid(first, read_label_map(tmp_path / "c.nii.gz")) == "geometry_mismatch"


def test_unreadable_files_raise_input_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.nii.gz").write_bytes(b"not a nifti")
    (tmp_path / "broken.npz").write_bytes(b"not a zip")
    (tmp_path / "broken.dcm").write_bytes(b"not dicom")
    for name in ("broken.nii.gz", "broken.npz", "broken.dcm"):
        with pytest.raises(InputError, match="cannot read"):
            read_label_map(tmp_path / name)
